public import Protocol

/// Apps as a provider would write them, for tests and benchmarks.
public enum SampleApps {
    /// A Vite + React app of `files` files (at least 8): the page, the entry, the root component,
    /// a stylesheet, a data module, package.json and components that render a product list,
    /// each with some state. It builds with esbuild and renders `title` as its heading.
    public static func vite(files count: Int = 30, title: String = "Soap Shop") -> [ProjectFile] {
        let components = max(2, count - 6)
        var files: [ProjectFile] = [
            ProjectFile(
                path: "package.json",
                contents: """
                    {
                      "name": "soap-shop",
                      "private": true,
                      "version": "0.1.0",
                      "type": "module",
                      "scripts": {"dev": "vite", "build": "vite build", "preview": "vite preview"},
                      "dependencies": {"react": "^18.2.0", "react-dom": "^18.2.0"},
                      "devDependencies": {"vite": "^5.0.0", "@vitejs/plugin-react": "^4.2.0"}
                    }

                    """),
            ProjectFile(
                path: "index.html",
                contents: """
                    <!DOCTYPE html>
                    <html lang="en">
                      <head>
                        <meta charset="UTF-8" />
                        <meta name="viewport" content="width=device-width, initial-scale=1.0" />
                        <title>\(title)</title>
                      </head>
                      <body>
                        <div id="root"></div>
                        <script type="module" src="/src/main.jsx"></script>
                      </body>
                    </html>

                    """),
            ProjectFile(
                path: "src/main.jsx",
                contents: """
                    import React from 'react'
                    import ReactDOM from 'react-dom/client'
                    import App from './App.jsx'
                    import './index.css'

                    ReactDOM.createRoot(document.getElementById('root')).render(
                      <React.StrictMode>
                        <App />
                      </React.StrictMode>
                    )

                    """),
            ProjectFile(
                path: "src/index.css",
                contents: """
                    :root { --accent: #2a7a6f; font-family: system-ui, sans-serif; }
                    body { margin: 0; background: #fafaf7; color: #222; }
                    h1 { color: var(--accent); }
                    .card { border: 1px solid #ddd; border-radius: 8px; padding: 12px; margin: 8px; }
                    .card button { background: var(--accent); color: white; border: 0; padding: 6px 10px; }

                    """),
            ProjectFile(
                path: "src/data.js",
                contents: "export const products = [\n"
                    + (0..<components).map { "  { id: \($0), name: 'Bar \($0)', price: \(3 + $0 % 7) },\n" }.joined()
                    + "]\n"),
        ]
        let imports = (0..<components).map { "import Card\($0) from './components/Card\($0).jsx'" }.joined(separator: "\n")
        let uses = (0..<components).map { "        <Card\($0) product={products[\($0)]} onAdd={add} />" }.joined(separator: "\n")
        files.append(
            ProjectFile(
                path: "src/App.jsx",
                contents: """
                    import { useState } from 'react'
                    import { products } from './data.js'
                    \(imports)

                    export default function App() {
                      const [cart, setCart] = useState([])
                      const add = (product) => setCart((items) => [...items, product])
                      const total = cart.reduce((sum, item) => sum + item.price, 0)
                      return (
                        <main>
                          <h1>\(title)</h1>
                          <p>{cart.length} in the cart, ${total}</p>
                    \(uses)
                        </main>
                      )
                    }

                    """))
        for index in 0..<components {
            files.append(
                ProjectFile(
                    path: "src/components/Card\(index).jsx",
                    contents: """
                        import { useState } from 'react'

                        export default function Card\(index)({ product, onAdd }) {
                          const [count, setCount] = useState(0)
                          return (
                            <div className="card">
                              <h2>{product.name}</h2>
                              <p>${product.price} · added {count}×</p>
                              <button onClick={() => { setCount(count + 1); onAdd(product) }}>Add</button>
                            </div>
                          )
                        }

                        """))
        }
        return files
    }
}
