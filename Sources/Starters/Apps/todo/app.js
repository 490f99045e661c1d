{{> shared/prelude.js}}

const SAMPLE_TASKS = [
{{#hasSubject}}
  "Plan the next step for {{subject}}",
  "Gather what {{subject}} needs",
{{/hasSubject}}
{{^hasSubject}}
  "Write down the first thing to do",
  "Try ticking a task off",
{{/hasSubject}}
  "Double-click a task to edit it",
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
