// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// While someone writes a listing, show similar open listings beside the form.
(() => {
  const form = document.querySelector("form[data-similar-url]");
  const aside = document.getElementById("similar");
  if (!form || !aside) return;
  const title = form.querySelector("[name=title]");
  const description = form.querySelector("[name=description]");
  const language = form.querySelector("[name=language]");
  let timer = null;
  let lastQuery = "";
  const refresh = async () => {
    const query = `${title ? title.value : ""} ${description ? description.value : ""}`.trim();
    const key = `${language ? language.value : ""}:${query}`;
    if (query.length < 4 || key === lastQuery) return;
    lastQuery = key;
    const url = new URL(form.dataset.similarUrl, window.location.href);
    url.searchParams.set("q", query.slice(0, 2000));
    if (language) url.searchParams.set("language", language.value);
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (response.ok) aside.innerHTML = await response.text();
    } catch (error) {
      // Offline or the server is busy: the form works without suggestions.
    }
  };
  form.addEventListener("input", (event) => {
    if (event.target !== title && event.target !== description && event.target !== language) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
})();

// The menu and filters fold on a phone only: on a wide screen they are open (CSS shows them too).
(() => {
  const wide = window.matchMedia("(min-width: 48rem)");
  const unfold = () => {
    if (!wide.matches) return;
    document.querySelectorAll("details.collapsible").forEach((details) => {
      details.open = true;
    });
  };
  unfold();
  wide.addEventListener("change", unfold);
})();

// Real places: suggest cities (any language or script) as they are typed, in the chosen
// country. Without JavaScript the typed name is looked up when the form is sent.
(() => {
  const list = document.querySelector("datalist[data-suggestions-url]");
  const input = list && document.querySelector(`input[list="${list.id}"]`);
  if (!input) return;
  const country = input.form ? input.form.querySelector("[name=country]") : null;
  let timer = null;
  let lastKey = "";
  const refresh = async () => {
    const query = input.value.trim();
    const key = `${country ? country.value : ""}:${query}`;
    if (query.length < 2 || key === lastKey) return;
    lastKey = key;
    const url = new URL(list.dataset.suggestionsUrl, window.location.href);
    url.searchParams.set("q", query.slice(0, 100));
    if (country && country.value) url.searchParams.set("country", country.value);
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const places = await response.json();
      list.replaceChildren(
        ...places.map((place) => {
          const option = document.createElement("option");
          option.value = place.value;
          option.label = place.label;
          return option;
        }),
      );
    } catch (error) {
      // Offline or the server is busy: the name is looked up when the form is sent.
    }
  };
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
})();
