// GraphiQL from the bundle, not a CDN. Nothing it holds is written to the browser's storage:
// the Authorization header typed into it lives as long as the tab, like the explorer's key.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";
import { createRoot } from "react-dom/client";

/** A Storage that forgets everything when the tab closes (never localStorage). */
class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
}

const fetcher = createGraphiQLFetcher({ url: new URL("/graphql", location.href).toString() });
const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    <GraphiQL
      fetcher={fetcher}
      storage={new MemoryStorage()}
      shouldPersistHeaders={false}
      defaultHeaders={'{"Authorization": "Bearer <api key>"}'}
    />,
  );
}
