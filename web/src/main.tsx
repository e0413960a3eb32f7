// The Hangar web app: one page, real URLs, typed calls to the API (src/client/api.ts).
import { createRoot } from "react-dom/client";
import { App } from "./App";
import "../style.css";

const root = document.getElementById("root");
if (root) createRoot(root).render(<App />);
