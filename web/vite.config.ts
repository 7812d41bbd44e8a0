/// <reference types="vitest" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `parlor app` serves web/dist at `/` and the API under /api on the same origin. During
// `npm run dev`, /api is proxied to a local `parlor dev` (PARLOR_APP_URL, default :8080).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    sourcemap: false,
    // The call page (with the LiveKit SDKs, ~650 kB) is its own lazily loaded chunk.
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: { '/api': process.env.PARLOR_APP_URL ?? 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
