// The drawing: one cytoscape instance, laid out without animation so a 200-node view is done
// within half a second, and exported as PNG, GraphML or JSON.
import type { Core, ElementDefinition, LayoutOptions, StylesheetJson } from "cytoscape";

// Fetched beside the page, not before it: the sign-in form and search box do not wait for the
// graph library (most of the bundle's bytes).
const library = import("cytoscape").then((module) => module.default);

export interface NodeData {
  id: string;
  label: string;
  kind: string; // person, account, enterprise, device, phone, email, address, id_document, suppressed
  tip?: string;
  /** Where to draw it, for the preset layout. */
  position?: { x: number; y: number };
  [extra: string]: unknown;
}

export interface EdgeData {
  id: string;
  source: string;
  target: string;
  kind: string; // evidence kind, holds, transfer, share, guarantee
  label?: string;
  tip?: string;
  [extra: string]: unknown;
}

const COLORS: Record<string, string> = {
  person: "#1f6fb2",
  account: "#2e8b57",
  enterprise: "#8e44ad",
  controller: "#c0392b",
  device: "#d35400",
  phone: "#16a085",
  email: "#7f8c8d",
  address: "#b7950b",
  id_document: "#5d6d7e",
  suppressed: "#bbbbbb",
};

const STYLE: StylesheetJson = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "font-size": 10,
      "text-valign": "bottom",
      "text-wrap": "wrap",
      "text-margin-y": 3,
      width: 18,
      height: 18,
      "background-color": "#999",
    },
  },
  ...Object.entries(COLORS).map(([kind, color]) => ({
    selector: `node[kind = "${kind}"]`,
    style: { "background-color": color },
  })),
  { selector: 'node[kind = "person"]', style: { width: 24, height: 24 } },
  { selector: 'node[kind = "account"]', style: { shape: "round-rectangle" } },
  { selector: 'node[kind = "enterprise"]', style: { shape: "hexagon", width: 26, height: 26 } },
  { selector: 'node[kind = "suppressed"]', style: { shape: "diamond", "border-width": 1, "border-style": "dashed" } },
  { selector: "node.focus", style: { "border-width": 3, "border-color": "#f1c40f" } },
  {
    selector: "edge",
    style: {
      width: "mapData(strength, 0, 1, 1, 5)",
      "line-color": "#aab",
      "curve-style": "bezier",
      "font-size": 9,
      label: "data(label)",
      "text-rotation": "autorotate",
      "text-background-color": "#fff",
      "text-background-opacity": 0.8,
    },
  },
  { selector: 'edge[kind = "transfer"], edge[kind = "hop"]', style: { "target-arrow-shape": "triangle", "line-color": "#c0392b", "target-arrow-color": "#c0392b", width: 2 } },
  { selector: 'edge[kind = "share"]', style: { "target-arrow-shape": "triangle", width: 2 } },
  { selector: 'edge[kind = "guarantee"]', style: { "line-style": "dashed", "line-color": "#e67e22", "target-arrow-shape": "triangle", "target-arrow-color": "#e67e22", width: 2 } },
  { selector: 'edge[kind = "suppressed"]', style: { "line-style": "dotted", "line-color": "#ccc" } },
  { selector: ".hidden", style: { display: "none" } },
];

export interface DrawOptions {
  layout?: "cose" | "breadthfirst" | "preset" | "concentric";
  onTap?: (node: NodeData) => void;
  onHover?: (text: string | null) => void;
}

export class GraphView {
  private cy: Core | null = null;
  lastLayoutMs = 0;
  layouts = 0;

  constructor(private readonly container: HTMLElement) {}

  /** Replace the drawing; resolves when the layout has finished. */
  async draw(nodes: NodeData[], edges: EdgeData[], options: DrawOptions = {}): Promise<number> {
    const cytoscape = await library;
    this.cy?.destroy();
    const cy = cytoscape({
      container: this.container,
      elements: toElements(nodes, edges),
      style: STYLE,
      minZoom: 0.1,
      maxZoom: 1.5, // a drawing of three nodes is not blown up to fill the panel
    });
    this.cy = cy;
    cy.on("tap", "node", (event) => options.onTap?.(event.target.data() as NodeData));
    cy.on("mouseover", "node, edge", (event) => options.onHover?.((event.target.data("tip") as string | undefined) ?? event.target.data("label") ?? null));
    cy.on("mouseout", "node, edge", () => options.onHover?.(null));
    return this.runLayout(options.layout ?? "cose");
  }

  /** Add nodes and edges (an expansion) and lay the whole drawing out again. */
  add(nodes: NodeData[], edges: EdgeData[], layout: DrawOptions["layout"] = "cose"): Promise<number> {
    const cy = this.cy;
    if (!cy) return Promise.resolve(0);
    const fresh = toElements(
      nodes.filter((n) => cy.getElementById(n.id).empty()),
      edges.filter((e) => cy.getElementById(e.id).empty()),
      (id) => cy.getElementById(id).nonempty(),
    );
    cy.add(fresh);
    return this.runLayout(layout);
  }

  /** Lay the current drawing out again with a force-directed layout. */
  relayout(): Promise<number> {
    return this.runLayout("cose");
  }

  private runLayout(name: NonNullable<DrawOptions["layout"]>): Promise<number> {
    const cy = this.cy;
    if (!cy) return Promise.resolve(0);
    const started = performance.now();
    const options: LayoutOptions =
      name === "cose"
        ? // Cools fast (about 70 rounds instead of up to 1,000): a 200-node drawing settles well
          // within half a second, and an analyst can run it again from the toolbar.
          ({ name: "cose", animate: false, randomize: true, numIter: 400, coolingFactor: 0.9, nodeRepulsion: () => 6000, idealEdgeLength: () => 50, fit: true, padding: 20 } as LayoutOptions)
        : name === "breadthfirst"
          ? { name: "breadthfirst", directed: true, animate: false, fit: true, padding: 20, spacingFactor: 1.1 }
          : name === "concentric"
            ? { name: "concentric", animate: false, fit: true, padding: 20 }
            : { name: "preset", fit: true, padding: 30 };
    return new Promise((resolve) => {
      const layout = cy.layout(options);
      layout.one("layoutstop", () => {
        this.lastLayoutMs = performance.now() - started;
        this.layouts += 1;
        this.container.dataset.layouts = String(this.layouts);
        this.container.dataset.nodes = String(cy.nodes().length);
        resolve(this.lastLayoutMs);
      });
      layout.run();
    });
  }

  nodeCount(): number {
    return this.cy?.nodes().length ?? 0;
  }

  edgeCount(): number {
    return this.cy?.edges().length ?? 0;
  }

  /** Show only links of these kinds (and the nodes they still reach; persons stay). */
  filterEdges(kinds: Set<string>): void {
    const cy = this.cy;
    if (!cy) return;
    cy.batch(() => {
      cy.edges().forEach((edge) => {
        edge.toggleClass("hidden", !kinds.has(edge.data("kind") as string));
      });
      cy.nodes().forEach((node) => {
        const kind = node.data("kind") as string;
        // By kind, not by :visible: styles are only brought up to date when the batch ends.
        const keep = kind === "person" || kind === "account" || node.connectedEdges().some((e) => kinds.has(e.data("kind") as string));
        node.toggleClass("hidden", !keep);
      });
    });
  }

  visibleNodeCount(): number {
    // By class, not :visible, which follows the style only once it is brought up to date.
    return this.cy?.nodes().not(".hidden").length ?? 0;
  }

  /** Where a node is drawn, in page coordinates (for tests that click it). */
  pagePosition(id: string): { x: number; y: number } | null {
    const node = this.cy?.getElementById(id);
    if (!node || node.empty()) return null;
    const box = this.container.getBoundingClientRect();
    const at = node.renderedPosition();
    return { x: box.left + at.x, y: box.top + at.y };
  }

  nodeIds(kind?: string): string[] {
    const cy = this.cy;
    if (!cy) return [];
    return cy.nodes().filter((n) => kind === undefined || n.data("kind") === kind).map((n) => n.id());
  }

  clear(): void {
    this.cy?.destroy();
    this.cy = null;
    this.container.dataset.nodes = "0";
  }

  png(): Blob | null {
    return this.cy ? (this.cy.png({ output: "blob", full: true, bg: "#ffffff", scale: 2 }) as unknown as Blob) : null;
  }

  json(): string {
    const cy = this.cy;
    if (!cy) return "{}";
    return JSON.stringify(
      {
        nodes: cy.nodes().map((n) => ({ ...n.data(), position: n.position() })),
        edges: cy.edges().map((e) => e.data()),
      },
      null,
      2,
    );
  }

  graphml(): string {
    const cy = this.cy;
    if (!cy) return "";
    const keys = ["label", "kind", "tip"];
    const head = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
      ...keys.map((k) => `  <key id="${k}" for="all" attr.name="${k}" attr.type="string"/>`),
      '  <key id="strength" for="edge" attr.name="strength" attr.type="double"/>',
      '  <graph id="relgraph" edgedefault="directed">',
    ];
    const data = (d: Record<string, unknown>, names: string[]): string =>
      names
        .filter((k) => d[k] !== undefined && d[k] !== null)
        .map((k) => `<data key="${k}">${xml(String(d[k]))}</data>`)
        .join("");
    const nodes = cy.nodes().map((n) => `    <node id="${xml(n.id())}">${data(n.data(), keys)}</node>`);
    const edges = cy
      .edges()
      .map((e) => `    <edge id="${xml(e.id())}" source="${xml(e.source().id())}" target="${xml(e.target().id())}">${data(e.data(), [...keys, "strength"])}</edge>`);
    return [...head, ...nodes, ...edges, "  </graph>", "</graphml>", ""].join("\n");
  }

  focus(id: string): void {
    this.cy?.getElementById(id).addClass("focus");
  }
}

function toElements(
  nodes: NodeData[],
  edges: EdgeData[],
  drawn: (id: string) => boolean = () => false,
): ElementDefinition[] {
  const seen = new Set<string>();
  const out: ElementDefinition[] = [];
  for (const node of nodes) {
    if (seen.has(node.id)) continue;
    seen.add(node.id);
    const { position, ...data } = node;
    out.push({ group: "nodes", data: data as NodeData, position: position as { x: number; y: number } | undefined });
  }
  for (const edge of edges) {
    const ends = [edge.source, edge.target].every((id) => seen.has(id) || drawn(id));
    if (seen.has(edge.id) || !ends) continue;
    seen.add(edge.id);
    out.push({ group: "edges", data: { strength: 0.5, label: "", ...edge } });
  }
  return out;
}

function xml(text: string): string {
  // Characters XML 1.0 forbids (control characters a name may carry) would make the file
  // unreadable by every GraphML tool: left out.
  const allowed = text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "");
  return allowed.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
