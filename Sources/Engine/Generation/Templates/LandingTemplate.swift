import Protocol
import VectortCore
import Generation

/// A one-page site: hero, features, questions and an e-mail sign-up kept in `localStorage`.
enum LandingTemplate {
    typealias E = StarterEscaping

    static func files(_ copy: StarterCopy) -> [ProjectFile] {
        StarterScaffold.files(
            copy, kind: .landing, body: body(copy), styles: styles, script: script(copy),
            readme: StarterScaffold.readme(
                copy,
                summary: "A one-page site built from the landing page starter.",
                features: [
                    "A hero with the headline and a call to action.",
                    "Feature cards and common questions, rendered from data in `app.js`.",
                    "An e-mail sign-up form that checks the address and remembers sign-ups in `localStorage`.",
                    "Light and dark themes that follow the system setting.",
                ],
                customise: [
                    "Edit `FEATURES` and `QUESTIONS` at the top of `app.js`.",
                    "Change the colours in the `:root` block of `styles.css`.",
                    "Send sign-ups to your own service in the form's `submit` handler.",
                ]))
    }

    static func tagline(_ copy: StarterCopy) -> String {
        copy.subject == StarterCopy.defaultSubject
            ? "Everything you need, in one place." : "\(copy.subjectTitle), made simple."
    }

    static func body(_ copy: StarterCopy) -> String {
        let title = E.html(copy.title)
        return """
            <header class="site-header">
              <div class="container nav">
                <a class="brand" href="#top">\(title)</a>
                <nav aria-label="Main">
                  <a href="#features">Features</a>
                  <a href="#questions">Questions</a>
                  <a class="button small" href="#signup">Get started</a>
                </nav>
              </div>
            </header>
            <main id="top">
              <section class="hero">
                <div class="container">
                  <p class="eyebrow">\(E.html(copy.subjectTitle))</p>
                  <h1>\(title)</h1>
                  <p class="lead">\(E.html(tagline(copy)))</p>
                  <p class="hero-actions">
                    <a class="button" href="#signup">Get started</a>
                    <a class="button ghost" href="#features">Learn more</a>
                  </p>
                </div>
              </section>
              <section id="features" class="section">
                <div class="container">
                  <h2>Why \(title)</h2>
                  <div id="feature-list" class="grid"></div>
                </div>
              </section>
              <section id="questions" class="section">
                <div class="narrow">
                  <h2>Questions</h2>
                  <div id="question-list"></div>
                </div>
              </section>
              <section id="signup" class="section signup">
                <div class="narrow">
                  <h2>Stay in the loop</h2>
                  <p>\(E.html(copy.description))</p>
                  <form id="signup-form" class="signup-form" novalidate>
                    <label class="visually-hidden" for="email">E-mail address</label>
                    <input id="email" name="email" type="email" placeholder="you@example.com" autocomplete="email" required>
                    <button class="button" type="submit">Notify me</button>
                  </form>
                  <p id="signup-status" class="muted" role="status" aria-live="polite"></p>
                </div>
              </section>
            </main>
            <footer class="site-footer">
              <div class="container">&copy; <span id="year"></span> \(title)</div>
            </footer>
            """
    }

    static func script(_ copy: StarterCopy) -> String {
        let js = E.javaScriptString
        let subject = copy.subject
        return StarterScaffold.scriptPrelude(copy) + #"""

            const FEATURES = [
              {
                title: \#(js("\(copy.subjectTitle) without the hassle")),
                text: \#(js("Everything you need for \(subject), gathered in one place and ready when you are.")),
              },
              {
                title: "Made with care",
                text: \#(js("Thoughtful details that make \(subject) a pleasure, not a chore.")),
              },
              {
                title: "Works everywhere",
                text: "Fast on phones, tablets and desktops, with nothing to install.",
              },
            ];

            const QUESTIONS = [
              {
                question: \#(js("What is \(copy.title)?")),
                answer: \#(js(copy.description)),
              },
              {
                question: "How much does it cost?",
                answer: "Getting started is free. Sign up below and we will tell you about plans as they arrive.",
              },
              {
                question: "How do I get in touch?",
                answer: "Leave your e-mail address below and we will write back.",
              },
            ];

            function renderFeatures() {
              const list = document.getElementById("feature-list");
              list.replaceChildren(
                ...FEATURES.map((feature, index) =>
                  el("article", { className: "card feature" },
                    el("span", { className: "feature-number", "aria-hidden": "true", text: String(index + 1) }),
                    el("h3", { text: feature.title }),
                    el("p", { text: feature.text })))
              );
            }

            function renderQuestions() {
              const list = document.getElementById("question-list");
              list.replaceChildren(
                ...QUESTIONS.map((item, index) =>
                  el("details", { className: "question", open: index === 0 },
                    el("summary", { text: item.question }),
                    el("p", { text: item.answer })))
              );
            }

            function looksLikeEmail(value) {
              const at = value.indexOf("@");
              return at > 0 && value.lastIndexOf(".") > at + 1 && !value.endsWith(".") && !value.includes(" ");
            }

            function setUpSignup() {
              const form = document.getElementById("signup-form");
              const input = document.getElementById("email");
              const status = document.getElementById("signup-status");
              form.addEventListener("submit", (event) => {
                event.preventDefault();
                const email = input.value.trim();
                if (!looksLikeEmail(email)) {
                  status.textContent = "Please enter a valid e-mail address.";
                  input.focus();
                  return;
                }
                const signups = load("signups", []);
                if (!signups.includes(email)) signups.push(email);
                save("signups", signups);
                status.textContent = "Thanks! We will write to " + email + ".";
                form.reset();
              });
            }

            document.getElementById("year").textContent = String(new Date().getFullYear());
            renderFeatures();
            renderQuestions();
            setUpSignup();

            """#
    }

    static let styles = """
        .hero {
          padding-block: 5rem 4rem;
          text-align: center;
          background: linear-gradient(180deg, var(--surface), var(--bg));
        }
        .hero h1 { font-size: clamp(2.2rem, 6vw, 3.6rem); margin: 0.25rem 0 1rem; }
        .eyebrow {
          margin: 0;
          color: var(--accent);
          font-weight: 700;
          letter-spacing: 0.08em;
          text-transform: uppercase;
          font-size: 0.85rem;
        }
        .hero-actions { display: flex; gap: 0.75rem; justify-content: center; flex-wrap: wrap; }

        .section { padding-block: 3rem; }
        .section h2 { font-size: 1.8rem; margin-top: 0; }

        .feature h3 { margin: 0.5rem 0; }
        .feature p { margin: 0; color: var(--muted); }
        .feature-number {
          display: inline-grid;
          place-items: center;
          width: 2rem;
          height: 2rem;
          border-radius: 50%;
          background: var(--accent);
          color: var(--accent-text);
          font-weight: 700;
        }

        .question {
          border-bottom: 1px solid var(--border);
          padding-block: 0.9rem;
        }
        .question summary { cursor: pointer; font-weight: 600; }
        .question p { margin: 0.5rem 0 0; color: var(--muted); }

        .signup { background: var(--surface); border-block: 1px solid var(--border); text-align: center; }
        .signup-form { display: flex; gap: 0.5rem; justify-content: center; flex-wrap: wrap; margin-top: 1rem; }
        .signup-form input { min-width: min(320px, 100%); }

        """
}
