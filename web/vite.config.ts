import { defineConfig } from "vite";

// The build goes into the Python package, which serves it at "/".
export default defineConfig({
  build: {
    outDir: "../src/switchboard/server/web_dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
});
