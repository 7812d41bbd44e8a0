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
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        // The LiveKit SDKs are only needed on the join page; keep them in their own chunk.
        manualChunks: (id) => (id.includes('node_modules/livekit-client') || id.includes('node_modules/@livekit') ? 'livekit' : undefined),
      },
    },
  },
  server: {
    proxy: { '/api': process.env.PARLOR_APP_URL ?? 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
