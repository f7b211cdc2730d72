/// <reference types="vitest/config" />
// Vite config for the Idlewatt UI. The Tauri shell loads `http://localhost:1420` in dev
// (`devUrl`) and `ui/dist` in release (`frontendDist`), so the port is fixed (strictPort).
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  // Same as Tauri's template: `localhost` unless TAURI_DEV_HOST says otherwise (devUrl is
  // http://localhost:1420 in src-tauri/tauri.conf.json).
  server: { port: 1420, strictPort: true, host: process.env.TAURI_DEV_HOST || false },
  envPrefix: ["VITE_", "TAURI_ENV_"],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK (Linux) and WebView2 are both recent enough for ES2021.
    target: "es2021",
    sourcemap: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
