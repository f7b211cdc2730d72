// Entry point. In a dev server without the Tauri shell (`npm run dev` opened in a browser),
// the preview transport installs sample data so screens can be looked at; that branch is
// compiled out of production builds (`import.meta.env.DEV` is false there) and tests never use it.
import "./lib/locale-guard";
import { mount } from "svelte";
import "uplot/dist/uPlot.min.css";
import "./app.css";
import App from "./App.svelte";

async function start() {
  if (import.meta.env.DEV && !("__TAURI_INTERNALS__" in window)) {
    const preview = await import("./lib/preview/install");
    preview.install();
  }
  mount(App, { target: document.getElementById("app") as HTMLElement });
}

void start();
