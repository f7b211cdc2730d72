/// <reference types="vitest/config" />
// Vite config for the Idlewatt UI. The Tauri shell loads `http://localhost:1420` in dev
// (`devUrl`) and `ui/dist` in release (`frontendDist`), so the port is fixed (strictPort).
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: "127.0.0.1" },
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
