{{> shared/prelude.js}}

const FEATURES = [
  {
    title: "{{subjectTitle}} without the hassle",
    text: "Everything you need for {{subject}}, gathered in one place and ready when you are.",
  },
  {
    title: "Made with care",
    text: "Thoughtful details that make {{subject}} a pleasure, not a chore.",
  },
  {
    title: "Works everywhere",
    text: "Fast on phones, tablets and desktops, with nothing to install.",
  },
];

const QUESTIONS = [
  {
    question: "What is {{title}}?",
    answer: "{{description}}",
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
