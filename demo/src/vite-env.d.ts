// Types of the modules vite-plugin-pwa provides at build time (`virtual:pwa-register/react`).
/// <reference types="vite-plugin-pwa/react" />
