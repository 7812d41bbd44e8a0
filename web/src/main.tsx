import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { ApiClient } from './api/client';
import { SessionProvider } from './auth/session';
import { App } from './App';
import './styles.css';

const api = new ApiClient();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider api={api}>
        <App />
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
