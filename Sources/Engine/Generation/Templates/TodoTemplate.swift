import Protocol
import VectortCore
import Generation

/// A task list: add, tick, edit in place, delete, filter; kept in `localStorage`.
enum TodoTemplate {
    typealias E = StarterEscaping

    static func files(_ copy: StarterCopy) -> [ProjectFile] {
        StarterScaffold.files(
            copy, kind: .todo, body: body(copy), styles: styles, script: script(copy),
            readme: StarterScaffold.readme(
                copy,
                summary: "A task list built from the to-do starter.",
                features: [
                    "Add, complete, edit (double-click or the Edit button) and delete tasks.",
                    "Filter all, active and done tasks; clear the done ones at once.",
                    "Tasks are saved in the browser's `localStorage`, so they survive a reload.",
                ],
                customise: [
                    "Change the first-run tasks in `SAMPLE_TASKS` at the top of `app.js`.",
                    "Add fields (due date, priority) to the task objects and to `renderTask`.",
                    "Change the colours in the `:root` block of `styles.css`.",
                ]))
    }

    static func tagline(_ copy: StarterCopy) -> String {
        copy.subject == StarterCopy.defaultSubject
            ? "Everything to do, in one place." : "Keep track of \(copy.subject) in one place."
    }

    static func body(_ copy: StarterCopy) -> String {
        """
        <main class="narrow app">
          <header class="app-header">
            <h1>\(E.html(copy.title))</h1>
            <p class="lead">\(E.html(tagline(copy)))</p>
          </header>
          <form id="new-task" class="new-task card" autocomplete="off">
            <label class="visually-hidden" for="task-text">New task</label>
            <input id="task-text" name="text" placeholder="What needs doing?" maxlength="200" required>
            <button class="button" type="submit">Add</button>
          </form>
          <div class="toolbar">
            <div class="filters" role="group" aria-label="Show">
              <button type="button" class="chip" data-filter="all">All</button>
              <button type="button" class="chip" data-filter="active">Active</button>
              <button type="button" class="chip" data-filter="done">Done</button>
            </div>
            <span id="task-count" class="muted" aria-live="polite"></span>
          </div>
          <ul id="task-list" class="task-list"></ul>
          <p id="empty" class="empty muted" hidden>Nothing here yet.</p>
          <div class="toolbar">
            <button type="button" id="clear-done" class="link">Clear done tasks</button>
          </div>
        </main>
        """
    }

    static func script(_ copy: StarterCopy) -> String {
        let js = E.javaScriptString
        let subject = copy.subject
        let samples =
            copy.subject == StarterCopy.defaultSubject
            ? ["Write down the first thing to do", "Try ticking a task off", "Double-click a task to edit it"]
            : ["Plan the next step for \(subject)", "Gather what \(subject) needs", "Double-click a task to edit it"]
        return StarterScaffold.scriptPrelude(copy) + #"""

            const SAMPLE_TASKS = [
              \#(samples.map(js).joined(separator: ",\n  ")),
            ];

            let tasks = load("tasks", null);
            if (!Array.isArray(tasks)) {
              tasks = SAMPLE_TASKS.map((text, index) => ({ id: index + 1, text, done: index === 0 }));
              save("tasks", tasks);
            }
            let filter = "all";
            let editingId = null;

            const list = document.getElementById("task-list");
            const count = document.getElementById("task-count");
            const empty = document.getElementById("empty");

            function nextId() {
              return tasks.reduce((highest, task) => Math.max(highest, task.id), 0) + 1;
            }

            function commit(next) {
              tasks = next;
              save("tasks", tasks);
              render();
            }

            function addTask(text) {
              commit([...tasks, { id: nextId(), text, done: false }]);
            }

            function updateTask(id, changes) {
              commit(tasks.map((task) => (task.id === id ? { ...task, ...changes } : task)));
            }

            function deleteTask(id) {
              commit(tasks.filter((task) => task.id !== id));
            }

            function startEditing(id) {
              editingId = id;
              render();
              const input = list.querySelector(".edit-input");
              if (input) {
                input.focus();
                input.select();
              }
            }

            function finishEditing(id, text) {
              editingId = null;
              const trimmed = text.trim();
              if (trimmed) updateTask(id, { text: trimmed });
              else deleteTask(id);
            }

            function renderTask(task) {
              const checkbox = el("input", {
                type: "checkbox",
                "aria-label": "Done: " + task.text,
                onchange: (event) => updateTask(task.id, { done: event.target.checked }),
              });
              checkbox.checked = task.done;

              let content;
              if (editingId === task.id) {
                content = el("input", { className: "edit-input", value: task.text, "aria-label": "Edit task" });
                let finished = false;
                content.addEventListener("keydown", (event) => {
                  if (event.key === "Enter") {
                    finished = true;
                    finishEditing(task.id, content.value);
                  } else if (event.key === "Escape") {
                    finished = true;
                    editingId = null;
                    render();
                  }
                });
                content.addEventListener("blur", () => {
                  if (!finished) finishEditing(task.id, content.value);
                });
              } else {
                content = el("span", { className: "task-text", text: task.text, ondblclick: () => startEditing(task.id) });
              }

              return el("li", { className: "task-item" + (task.done ? " done" : ""), "data-id": task.id },
                checkbox,
                content,
                el("button", { type: "button", className: "link", text: "Edit", onclick: () => startEditing(task.id) }),
                el("button", { type: "button", className: "link danger", text: "Delete", onclick: () => deleteTask(task.id) }));
            }

            function render() {
              const visible = tasks.filter((task) =>
                filter === "all" ? true : filter === "done" ? task.done : !task.done);
              list.replaceChildren(...visible.map(renderTask));
              empty.hidden = visible.length > 0;
              const left = tasks.filter((task) => !task.done).length;
              count.textContent = left === 1 ? "1 task left" : left + " tasks left";
              for (const button of document.querySelectorAll("[data-filter]")) {
                const active = button.dataset.filter === filter;
                button.classList.toggle("active", active);
                button.setAttribute("aria-pressed", String(active));
              }
            }

            document.getElementById("new-task").addEventListener("submit", (event) => {
              event.preventDefault();
              const input = document.getElementById("task-text");
              const text = input.value.trim();
              if (!text) return;
              addTask(text);
              input.value = "";
              input.focus();
            });

            for (const button of document.querySelectorAll("[data-filter]")) {
              button.addEventListener("click", () => {
                filter = button.dataset.filter;
                render();
              });
            }

            document.getElementById("clear-done").addEventListener("click", () => {
              commit(tasks.filter((task) => !task.done));
            });

            render();

            """#
    }

    static let styles = """
        .app { padding-block: 3rem; }
        .app-header h1 { font-size: clamp(2rem, 5vw, 2.8rem); margin-bottom: 0.25rem; }
        .app-header .lead { margin-top: 0; }

        .new-task { display: flex; gap: 0.5rem; padding: 0.75rem; }
        .new-task input { flex: 1; min-width: 0; }

        .toolbar {
          display: flex;
          align-items: center;
          justify-content: space-between;
          gap: 1rem;
          margin-block: 1rem;
          flex-wrap: wrap;
        }
        .filters { display: flex; gap: 0.4rem; }
        .chip {
          border: 1px solid var(--border);
          background: var(--surface);
          color: var(--text);
          border-radius: 999px;
          padding: 0.3rem 0.85rem;
          font: inherit;
          cursor: pointer;
        }
        .chip.active { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }

        .task-list { list-style: none; margin: 0; padding: 0; }
        .task-item {
          display: flex;
          align-items: center;
          gap: 0.75rem;
          padding: 0.75rem 1rem;
          margin-bottom: 0.5rem;
          background: var(--surface);
          border: 1px solid var(--border);
          border-radius: var(--radius);
        }
        .task-item input[type="checkbox"] { width: 1.15rem; height: 1.15rem; accent-color: var(--accent); }
        .task-text { flex: 1; overflow-wrap: anywhere; cursor: text; }
        .task-item.done .task-text { color: var(--muted); text-decoration: line-through; }
        .edit-input { flex: 1; min-width: 0; }
        .danger { color: var(--danger); }
        .empty { text-align: center; padding: 2rem; }

        """
}
