{{> shared/prelude.js}}

const SITE = {
  title: "{{title}}",
  tagline: "{{#hasSubject}}Notes and stories about {{subject}}.{{/hasSubject}}{{^hasSubject}}Notes, ideas and stories.{{/hasSubject}}",
  about: "{{description}}",
};

const POSTS = [
{{#posts}}
  {
    slug: "{{slug}}",
    title: "{{title}}",
    date: "{{date}}",
    tags: [{{#tags}}"{{.}}"{{^last()}}, {{/last()}}{{/tags}}],
    summary: "{{summary}}",
    paragraphs: [
{{#paragraphs}}
      "{{.}}",
{{/paragraphs}}
    ],
  },
{{/posts}}
];

const app = document.getElementById("app");

function formatDate(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(year, month - 1, day).toLocaleDateString(undefined, {
    year: "numeric",
    month: "long",
    day: "numeric",
  });
}

function readingTime(post) {
  const words = post.paragraphs.join(" ").split(" ").filter(Boolean).length;
  return Math.max(1, Math.round(words / 200)) + " min read";
}

function tagLinks(tags) {
  return el("ul", { className: "tags" },
    ...tags.map((tag) => el("li", {}, el("a", { href: "#/tag/" + encodeURIComponent(tag), text: "#" + tag }))));
}

function meta(post) {
  return el("p", { className: "post-meta muted" },
    el("time", { datetime: post.date, text: formatDate(post.date) }),
    " \u00b7 " + readingTime(post));
}

function postCard(post) {
  return el("article", { className: "post-card" },
    el("h2", {}, el("a", { href: "#/post/" + post.slug, text: post.title })),
    meta(post),
    el("p", { text: post.summary }),
    tagLinks(post.tags));
}

function listView(tag) {
  const posts = tag ? POSTS.filter((post) => post.tags.includes(tag)) : POSTS;
  const heading = tag
    ? el("header", { className: "list-header" },
        el("h1", { text: "Posts tagged #" + tag }),
        el("p", {}, el("a", { href: "#/", text: "All posts" })))
    : el("header", { className: "list-header" },
        el("h1", { text: SITE.title }),
        el("p", { className: "lead", text: SITE.tagline }));
  const items = posts.length
    ? posts.map(postCard)
    : [el("p", { className: "muted", text: "No posts yet." })];
  return [heading, ...items];
}

function postView(post) {
  document.title = post.title + " \u2013 " + SITE.title;
  return [
    el("article", { className: "post" },
      el("header", {},
        el("h1", { text: post.title }),
        meta(post)),
      ...post.paragraphs.map((text) => el("p", { text })),
      tagLinks(post.tags)),
    el("p", { className: "back" }, el("a", { href: "#/", text: "\u2190 All posts" })),
  ];
}

function aboutView() {
  document.title = "About \u2013 " + SITE.title;
  return [
    el("h1", { text: "About" }),
    el("p", { className: "lead", text: SITE.about }),
    el("p", {}, el("a", { href: "#/", text: "\u2190 All posts" })),
  ];
}

function notFoundView() {
  document.title = "Not found \u2013 " + SITE.title;
  return [
    el("h1", { text: "Page not found" }),
    el("p", {}, "There is nothing here. ", el("a", { href: "#/", text: "See all posts" }), "."),
  ];
}

function route() {
  let path = window.location.hash.replace("#", "");
  try {
    path = decodeURIComponent(path);
  } catch (error) {
    // A malformed escape in a hand-typed address: match it as written.
  }
  const parts = path.split("/").filter(Boolean);
  document.title = SITE.title;
  let view;
  if (parts.length === 0) view = listView(null);
  else if (parts[0] === "about" && parts.length === 1) view = aboutView();
  else if (parts[0] === "tag" && parts.length === 2) view = listView(parts[1]);
  else if (parts[0] === "post" && parts.length === 2) {
    const post = POSTS.find((candidate) => candidate.slug === parts[1]);
    view = post ? postView(post) : notFoundView();
  } else view = notFoundView();
  app.replaceChildren(...view);
  window.scrollTo(0, 0);
}

window.addEventListener("hashchange", () => {
  route();
  app.focus({ preventScroll: true });
});
route();
