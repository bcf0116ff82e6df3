// The explorer: sign in, search, and the person, money-flow, corporate-group and alert views.
// It is a client of /graphql only: what it shows is what the key's role may read.
import "./style.css";
import { ApiError, type Capabilities, probeCapabilities, query, setKey } from "./api";
import { download, facts, h, link, table } from "./dom";
import { type EdgeData, GraphView, type NodeData } from "./graph";
import { fmtDateTime, fmtMoney, fmtNumber, fmtShare, getLang, type Lang, setLang, t, tr } from "./i18n";
import * as Q from "./queries";

const IDENTIFIER_KINDS = new Set(["device", "phone", "email", "address", "id_document"]);
const STATUSES = ["OPEN", "ESCALATED", "DISMISSED", "REPORTED"] as const;

interface Named {
  __typename?: string;
  id: string;
  name?: string | null;
}

const el = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let caps: Capabilities | null = null;
let graph: GraphView;
let rerender: (() => void) | null = null;
let viewName = "search";
let clickedAt = 0;
let ingestOnly = false; // signed in with a key that may read nothing here

// --- shell -------------------------------------------------------------------------------

function labelStatic(): void {
  document.title = t("title");
  el("title").textContent = t("title");
  el<HTMLInputElement>("key").placeholder = t("keyPlaceholder");
  el("signin-button").textContent = t("signIn");
  el("signin-note").textContent = t("keyNote");
  el("signout").textContent = t("signOut");
  el<HTMLInputElement>("search").placeholder = t("searchPlaceholder");
  el("search-button").textContent = t("search");
  el("nav-alerts").textContent = t("alerts");
  el("relayout").textContent = t("relayout");
  el("export-png").textContent = t("exportPng");
  el("export-graphml").textContent = t("exportGraphml");
  el("export-json").textContent = t("exportJson");
  el("lang").textContent = getLang() === "zh" ? "English" : "中文";
  el("ingest-only-text").textContent = t("ingestOnly");
  if (caps) el("role").textContent = `${t("role")}: ${roleLabel(caps)}`;
  else if (ingestOnly) el("role").textContent = `${t("role")}: ${t("roleIngest")}`;
}

function roleLabel(c: Capabilities): string {
  return c.riskTeam ? t("roleRisk") : c.seesRisk ? t("roleAnalyst") : t("roleCampaign");
}

function setView(name: string, render: () => void | Promise<void>): void {
  clickedAt = performance.now(); // views open from a click (or an address) at once
  viewName = name;
  document.body.dataset.view = name;
  rerender = () => void run(render);
  rerender();
}

async function run(render: () => void | Promise<void>): Promise<void> {
  const detail = el("detail");
  detail.replaceChildren(h("p", { class: "muted" }, t("loading")));
  try {
    await render();
  } catch (error) {
    detail.replaceChildren(h("p", { class: "error", "data-testid": "error" }, message(error)));
  }
}

function message(error: unknown): string {
  if (error instanceof ApiError && error.code === "FORBIDDEN") return t("notAllowed");
  return error instanceof Error ? error.message : String(error);
}

function showGraphInfo(): void {
  el("graph-info").textContent = `${fmtNumber(graph.nodeCount())} ${t("nodes")} · ${fmtNumber(graph.edgeCount())} ${t("edges")} · ${t("layoutMs")} ${fmtNumber(Math.round(graph.lastLayoutMs))} ms`;
  if (clickedAt) {
    el("graph").dataset.sinceClickMs = String(Math.round(performance.now() - clickedAt));
    clickedAt = 0;
  }
}

function hover(text: string | null): void {
  const tip = el("tip");
  tip.textContent = text ?? "";
  tip.hidden = !text;
}

async function signIn(event: Event): Promise<void> {
  event.preventDefault();
  const input = el<HTMLInputElement>("key");
  const key = input.value.trim();
  input.value = ""; // the key lives in api.ts's memory only, not in the DOM
  setKey(key);
  try {
    caps = await probeCapabilities();
  } catch (error) {
    setKey(null);
    if (error instanceof ApiError && error.code === "FORBIDDEN") {
      // A valid key that may read nothing (an ingest key, for a payment system's transfers):
      // one message and no views, rather than a page whose every request is refused.
      showIngestOnly();
      return;
    }
    el("signin-error").textContent = t("badKey");
    return;
  }
  el("signin-error").textContent = "";
  el("signin").hidden = true;
  el("app").hidden = false;
  document.body.dataset.role = caps.riskTeam ? "risk" : caps.seesRisk ? "analyst" : "campaign";
  el("nav-alerts").hidden = !caps.riskTeam;
  labelStatic();
  el<HTMLInputElement>("search").focus();
  route();
}

function showIngestOnly(): void {
  ingestOnly = true;
  el("signin-error").textContent = "";
  el("signin").hidden = true;
  el("app").hidden = true;
  el("ingest-only").hidden = false;
  document.body.dataset.role = "ingest";
  el("nav-alerts").hidden = true;
  labelStatic();
}

/** Views by address (#/person/ID, #/enterprise/ID, #/account/ID, #/chain/ID/ACCOUNT,
 * #/alerts), so a view can be bookmarked or sent to a colleague: the key never is. */
function route(): void {
  if (!caps) return;
  let parts: string[];
  try {
    parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  } catch {
    return; // a malformed address (a cut %-escape) names no view: stay where we are
  }
  const [kind, id, extra] = parts;
  clickedAt = performance.now();
  if (kind === "person" && id) openPerson(id);
  else if (kind === "enterprise" && id) openEnterprise(id);
  else if (kind === "account" && id) openAccount(id);
  else if (kind === "household" && id) openHousehold(id);
  else if (kind === "chain" && id && extra) openChain(id, extra);
  else if (kind === "alerts" && caps.riskTeam) openAlerts();
}

function signOut(): void {
  setKey(null);
  caps = null;
  graph.clear();
  el("detail").replaceChildren();
  el("results").replaceChildren();
  el("app").hidden = true;
  el("ingest-only").hidden = true;
  ingestOnly = false;
  el("role").textContent = "";
  el("signin").hidden = false;
  delete document.body.dataset.role;
}

// --- search ------------------------------------------------------------------------------

interface Hit {
  matchedOn: string;
  person: Named | null;
  enterprise: Named | null;
  account: { id: string; product: string; holder: Named | null } | null;
  household: { id: string; size: number } | null;
}

/** Text a customer record or a bank's export wrote, isolated for the bidirectional
 * algorithm (U+2068 … U+2069): a name holding a right-to-left override (U+202E) reverses
 * itself only, not the ids and names written after it. */
function iso(text: string): string {
  return `\u2068${text}\u2069`;
}

/** What a hit names, as [kind, id, text]. */
function describe(hit: Hit): [string, string, string] {
  if (hit.person) return ["person", hit.person.id, `${t("person")} · ${iso(hit.person.name ?? "—")} (${iso(hit.person.id)})`];
  if (hit.enterprise) return ["enterprise", hit.enterprise.id, `${t("enterprise")} · ${iso(hit.enterprise.name ?? "—")} (${iso(hit.enterprise.id)})`];
  if (hit.account) {
    const holder = hit.account.holder;
    return ["account", hit.account.id, `${t("account")} · ${iso(hit.account.id)} · ${hit.account.product}${holder ? ` · ${iso(holder.name ?? holder.id)}` : ""}`];
  }
  if (hit.household) return ["household", hit.household.id, `${t("household")} · ${hit.household.id} · ${t("size")} ${hit.household.size}`];
  return ["", "", "—"];
}

async function search(event: Event): Promise<void> {
  event.preventDefault();
  const text = el<HTMLInputElement>("search").value.trim();
  if (!text) return;
  const results = el("results");
  results.replaceChildren(h("p", { class: "muted" }, t("loading")));
  try {
    const data = await query<{ search: { totalCount: number; edges: { node: Hit }[] } }>(Q.SEARCH, { text });
    const hits = data.search.edges.map((e) => e.node);
    results.replaceChildren(
      hits.length
        ? h(
            "ul",
            { "data-testid": "search-results" },
            ...hits.map((hit) => {
              const [kind, id, label] = describe(hit);
              return h("li", {}, link(label, () => openHit(kind, id), "search-hit"), h("span", { class: "muted" }, ` · ${hit.matchedOn.toLowerCase()}`));
            }),
          )
        : h("p", { class: "muted", "data-testid": "no-results" }, t("noResults")),
    );
  } catch (error) {
    results.replaceChildren(h("p", { class: "error", "data-testid": "error" }, message(error)));
  }
}

function openHit(kind: string, id: string): void {
  clickedAt = performance.now();
  if (kind === "enterprise") openEnterprise(id);
  else if (kind === "account") openAccount(id);
  else if (kind === "household") openHousehold(id);
  else if (kind === "person") openPerson(id);
}

// --- person ------------------------------------------------------------------------------

interface Person {
  id: string;
  name: string | null;
  birthYear: number | null;
  birthDate?: string | null;
  gender?: string | null;
  segment: string | null;
  riskRating?: string | null;
  riskFlags?: string[];
  aum: number | null;
  deposits: number | null;
  loans: number | null;
  cardSpend12m: number | null;
  products: string[];
  network?: { id: string; size: number } | null;
  records: {
    customerId: string;
    sourceSystem: string;
    name: string | null;
    idNumber: string | null;
    phone: string | null;
    email: string | null;
    matchScore?: number | null;
    matchEvidence?: { comparison: string; level: string; weight: number | null }[] | null;
  }[];
  accounts: { totalCount: number; edges: { node: AccountRow }[] };
  roles: { edges: { node: { role: string; enterprise: Named } }[] };
  household: { id: string } | null;
}

interface AccountRow {
  id: string;
  product: string;
  balance: number | null;
  status?: string | null;
  openedAt?: string | null;
}

function setHash(hash: string): void {
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

/** A match's waterfall as one line: each comparison, its level and its match weight. */
function evidenceText(evidence: { comparison: string; level: string; weight: number | null }[] | null | undefined): string {
  if (!evidence?.length) return "—";
  return evidence.map((e) => `${e.comparison}: ${e.level}${e.weight === null ? "" : ` (${e.weight >= 0 ? "+" : ""}${fmtNumber(Math.round(e.weight * 100) / 100)})`}`).join("; ");
}

function openPerson(id: string): void {
  setHash(`#/person/${encodeURIComponent(id)}`);
  setView("person", async () => {
    const seesRisk = caps?.seesRisk ?? false;
    const { customer: p } = await query<{ customer: Person }>(Q.personQuery(seesRisk), { id });
    const detail = el("detail");
    const profile: [string, string | HTMLElement][] = [
      [t("id"), p.id],
      [t("name"), p.name ?? "—"],
      [t("birthYear"), p.birthYear ? String(p.birthYear) : "—"],
      [t("segment"), p.segment ?? "—"],
      [t("aum"), fmtMoney(p.aum)],
      [t("deposits"), fmtMoney(p.deposits)],
      [t("loans"), fmtMoney(p.loans)],
      [t("cardSpend"), fmtMoney(p.cardSpend12m)],
      [t("products"), p.products.join("、") || "—"],
    ];
    if (seesRisk) {
      profile.push([t("birthDate"), fmtDateTime(p.birthDate)], [t("gender"), p.gender ?? "—"]);
      profile.push([t("riskRating"), p.riskRating ?? "—"], [t("riskFlags"), (p.riskFlags ?? []).join("、") || "—"]);
    }
    const recordHeaders = [t("system"), t("customerId"), t("name"), t("idNumber"), t("phone"), t("email")];
    if (seesRisk) recordHeaders.push(t("matchScore"), t("matchEvidence"));
    const recordRows = p.records.map((r) => {
      const row: (string | HTMLElement)[] = [r.sourceSystem, r.customerId, r.name ?? "—", r.idNumber ?? "—", r.phone ?? "—", r.email ?? "—"];
      if (seesRisk) row.push(r.matchScore === null || r.matchScore === undefined ? "—" : fmtNumber(r.matchScore), evidenceText(r.matchEvidence));
      return row;
    });
    const accounts = p.accounts.edges.map((e) => e.node);
    detail.replaceChildren(
      h("h2", { "data-testid": "person-name" }, `${t("person")} · ${p.name ?? p.id}`),
      h("h3", {}, t("profile")),
      facts(profile, "profile"),
      h("h3", {}, t("records")),
      table(recordHeaders, recordRows, "records"),
      h("h3", {}, `${t("accounts")} (${fmtNumber(p.accounts.totalCount)})`),
      table(
        [t("account"), t("product"), t("balance"), t("status"), t("openedAt")],
        accounts.map((a) => [caps?.riskTeam ? link(a.id, () => showLayering(a.id)) : a.id, a.product, fmtMoney(a.balance), a.status ?? "—", fmtDateTime(a.openedAt)]),
        "accounts",
      ),
      h("div", {}, ...(p.roles.edges.length ? [h("h3", {}, t("roles")), h("ul", {}, ...p.roles.edges.map((e) => h("li", {}, `${e.node.role} · `, link(e.node.enterprise.name ?? e.node.enterprise.id, () => openEnterprise(e.node.enterprise.id)))))] : [])),
      h("div", { id: "household" }),
      h("div", { id: "side" }),
    );
    if (p.household) void renderHousehold(p.household.id, el("household"));
    if (seesRisk && p.network) {
      await drawNetwork(p.id);
    } else {
      // Without risk fields: the person and the accounts only, no network.
      await graph.draw(
        [{ id: `p:${p.id}`, kind: "person", label: p.name ?? p.id }, ...accounts.map((a) => accountNode(a))],
        accounts.map((a) => ({ id: `h:${p.id}:${a.id}`, source: `p:${p.id}`, target: `a:${a.id}`, kind: "holds" })),
        { layout: "concentric", onHover: hover },
      );
      setFilters([]);
      showGraphInfo();
    }
  });
}

function accountNode(a: AccountRow): NodeData {
  return { id: `a:${a.id}`, kind: "account", label: a.id, tip: `${t("account")} ${a.id} · ${a.product} · ${fmtMoney(a.balance)}`, accountId: a.id };
}

interface Household {
  id: string;
  size: number;
  totalAum: number;
  deposits: number;
  loans: number;
  cardSpend: number;
  products: string[];
  missingProducts: string[];
  head: Named | null;
  members: Named[];
}

async function renderHousehold(id: string, into: HTMLElement): Promise<void> {
  try {
    const { household: hh } = await query<{ household: Household }>(Q.HOUSEHOLD, { id });
    into.replaceChildren(
      h("h3", {}, `${t("household")} ${hh.id}`),
      facts(
        [
          [t("size"), fmtNumber(hh.size)],
          [t("head"), hh.head?.name ?? "—"],
          [t("totalAum"), fmtMoney(hh.totalAum)],
          [t("deposits"), fmtMoney(hh.deposits)],
          [t("loans"), fmtMoney(hh.loans)],
          [t("cardSpend"), fmtMoney(hh.cardSpend)],
          [t("products"), hh.products.join("、") || "—"],
          [t("productGap"), hh.missingProducts.join("、") || "—"],
        ],
        "household",
      ),
      h("p", {}, `${t("members")}: `, ...hh.members.flatMap((m, i) => [i ? "、" : "", link(m.name ?? m.id, () => openPerson(m.id))])),
    );
  } catch (error) {
    into.replaceChildren(h("p", { class: "error" }, message(error)));
  }
}

function openHousehold(id: string): void {
  setView("household", async () => {
    const detail = el("detail");
    const box = h("div", {});
    detail.replaceChildren(box);
    await renderHousehold(id, box);
    graph.clear();
  });
}

// --- hidden network ----------------------------------------------------------------------

interface Network {
  id: string;
  size: number;
  members: Named[];
  links: { a: { id: string }; b: { id: string }; strength: number; evidence: { kind: string; ref: string; weight: number | null; count: number | null }[] }[];
  suppressed: { kind: string; ref: string; persons: number; usedBy: string[] }[];
}

/** Persons, the identifiers they share as nodes of their own, and the other ties as links. */
export function networkElements(network: Network): { nodes: NodeData[]; edges: EdgeData[] } {
  const nodes: NodeData[] = network.members.map((m) => ({ id: `p:${m.id}`, kind: "person", label: m.name ?? m.id, personId: m.id, tip: `${t("person")} ${m.name ?? ""} (${m.id})` }));
  const edges: EdgeData[] = [];
  const seen = new Set<string>();
  for (const link of network.links) {
    const a = `p:${link.a.id}`;
    const b = `p:${link.b.id}`;
    const summary = `${t("strength")} ${fmtNumber(link.strength)} · ${t("evidence")}: ${link.evidence.map((e) => `${tr(e.kind)} ${e.ref}${e.count ? ` (${e.count})` : ""}`).join("；")}`;
    for (const e of link.evidence) {
      if (IDENTIFIER_KINDS.has(e.kind)) {
        const id = `i:${e.kind}:${e.ref}`;
        if (!seen.has(id)) {
          seen.add(id);
          nodes.push({ id, kind: e.kind, label: shorten(e.ref), tip: `${tr(e.kind)} ${e.ref}${e.count ? ` · ${e.count}` : ""}${e.weight !== null ? ` · ${t("strength")} ${fmtNumber(e.weight)}` : ""}` });
        }
        for (const p of [a, b]) edges.push({ id: `${p}|${id}`, source: p, target: id, kind: e.kind, strength: e.weight ?? link.strength, tip: summary });
      } else {
        edges.push({ id: `${a}|${b}|${e.kind}|${e.ref}`, source: a, target: b, kind: e.kind, label: tr(e.kind), strength: link.strength, tip: summary });
      }
    }
  }
  // Public identifiers (a branch kiosk): drawn apart, dotted, and named as not evidence.
  for (const s of network.suppressed) {
    const id = `s:${s.kind}:${s.ref}`;
    nodes.push({ id, kind: "suppressed", label: `${shorten(s.ref)} ⊘`, tip: `${tr(s.kind)} ${s.ref} · ${fmtNumber(s.persons)} · ${t("suppressed")}` });
    for (const person of s.usedBy) edges.push({ id: `p:${person}|${id}`, source: `p:${person}`, target: id, kind: "suppressed", strength: 0, tip: `${tr(s.kind)} ${s.ref}: ${t("suppressed")}` });
  }
  return { nodes, edges };
}

/** Long identifiers (addresses) shortened on the drawing; the tip has them whole. */
function shorten(text: string, max = 16): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

async function drawNetwork(personId: string): Promise<void> {
  const { hiddenNetwork } = await query<{ hiddenNetwork: Network }>(Q.NETWORK, { id: personId });
  const { nodes, edges } = networkElements(hiddenNetwork);
  await graph.draw(nodes, edges, { onTap: expand, onHover: hover });
  graph.focus(`p:${personId}`);
  setFilters([...new Set(edges.map((e) => e.kind))]);
  showGraphInfo();
}

const expanded = new Set<string>();

async function expand(node: NodeData): Promise<void> {
  clickedAt = performance.now();
  if (node.kind === "account" && caps?.riskTeam) {
    await showLayering(String(node.accountId));
    return;
  }
  if (node.kind === "enterprise") {
    openEnterprise(String(node.enterpriseId ?? node.id.slice(2)));
    return;
  }
  if (node.kind !== "person" || expanded.has(node.id)) return;
  expanded.add(node.id);
  const personId = String(node.personId);
  const { customer } = await query<{ customer: { id: string; accounts: { edges: { node: AccountRow }[] } } }>(Q.PERSON_ACCOUNTS, { id: personId });
  const accounts = customer.accounts.edges.map((e) => e.node);
  await graph.add(
    accounts.map((a) => accountNode(a)),
    accounts.map((a) => ({ id: `h:${personId}:${a.id}`, source: node.id, target: `a:${a.id}`, kind: "holds" })),
  );
  showGraphInfo();
}

function setFilters(kinds: string[]): void {
  const box = el("filters");
  const chosen = new Set(kinds);
  chosen.add("holds");
  box.replaceChildren(
    kinds.length ? h("span", {}, `${t("filterEvidence")}: `) : "",
    ...kinds.map((kind) =>
      h("label", {}, h("input", { type: "checkbox", checked: true, "data-kind": kind, onchange: (e: Event) => {
        if ((e.target as HTMLInputElement).checked) chosen.add(kind);
        else chosen.delete(kind);
        graph.filterEdges(chosen);
      } }), tr(kind)),
    ),
  );
}

// --- accounts and layering ---------------------------------------------------------------

function openAccount(id: string): void {
  setHash(`#/account/${encodeURIComponent(id)}`);
  setView("account", async () => {
    const { account } = await query<{ account: AccountRow & { holder: Named | null } }>(Q.ACCOUNT, { id });
    const holder = account.holder;
    el("detail").replaceChildren(
      h("h2", {}, `${t("account")} ${account.id}`),
      facts([
        [t("product"), account.product],
        [t("balance"), fmtMoney(account.balance)],
        [t("status"), account.status ?? "—"],
        [t("openedAt"), fmtDateTime(account.openedAt)],
        [t("person"), holder ? link(holder.name ?? holder.id, () => (holder.__typename === "Enterprise" ? openEnterprise(holder.id) : openPerson(holder.id))) : "—"],
      ]),
      h("div", { id: "side" }),
    );
    await graph.draw([accountNode(account)], [], { layout: "concentric", onTap: expand, onHover: hover });
    showGraphInfo();
    if (caps?.riskTeam) await showLayering(id);
  });
}

interface Reason {
  reason: string;
  weight: number;
  valueNumber?: number | null;
  valueText?: string | null;
  valueId?: string | null;
}

function reasonText(r: Reason): string {
  const value = r.valueNumber ?? r.valueText ?? r.valueId;
  return `${r.reason}${value !== null && value !== undefined ? ` = ${typeof value === "number" ? fmtNumber(value) : value}` : ""} (${fmtNumber(r.weight)})`;
}

async function showLayering(accountId: string): Promise<void> {
  const side = document.getElementById("side") ?? el("detail");
  const { layeringCheck: check } = await query<{ layeringCheck: { score: number; truncated: boolean; reasons: Reason[]; chains: { id: string; typology: string; score: number; hopCount: number }[] } }>(Q.LAYERING, { id: accountId });
  side.replaceChildren(
    h("h3", { "data-testid": "layering" }, `${t("layeringCheck")} · ${accountId}`),
    facts([
      [t("score"), fmtNumber(check.score)],
      [t("reasons"), check.reasons.map(reasonText).join("；") || "—"],
    ]),
    table(
      [t("chains"), t("typology"), t("score"), t("hops")],
      check.chains.map((c) => [link(c.id, () => openChain(c.id, accountId)), c.typology, fmtNumber(c.score), fmtNumber(c.hopCount)]),
    ),
  );
}

// --- money flow --------------------------------------------------------------------------

interface Review {
  status: string;
  note: string | null;
  by: string;
  at: string;
}

interface Chain {
  id: string;
  typology: string;
  score: number;
  hopCount: number;
  status: string;
  reasons: Reason[];
  summary: { totalAmount: number; firstAt: string | null; lastAt: string | null; parties: Named[] };
  reviews: Review[];
  hops?: { txId: string; amount: number; timestamp: string; from: HopAccount; to: HopAccount }[];
}

interface HopAccount {
  id: string;
  product?: string;
  holder?: Named | null;
}

function partiesText(parties: Named[]): string {
  return parties.map((p) => `${iso(p.name ?? "—")} (${iso(p.id)})`).join("、") || "—";
}

function openChain(chainId: string, accountId: string): void {
  setHash(`#/chain/${encodeURIComponent(chainId)}/${encodeURIComponent(accountId)}`);
  setView("chain", async () => {
    const chain = await fetchChain(chainId, accountId);
    const hops = [...(chain.hops ?? [])].sort((x, y) => Date.parse(x.timestamp) - Date.parse(y.timestamp));
    const holder = (a: HopAccount): string => (a.holder ? iso(a.holder.name ?? a.holder.id) : "—");
    el("detail").replaceChildren(
      h("h2", { "data-testid": "chain-title" }, `${t("chain")} · ${chain.id}`),
      facts(
        [
          [t("typology"), chain.typology],
          [t("score"), fmtNumber(chain.score)],
          [t("hops"), fmtNumber(chain.hopCount)],
          [t("totalAmount"), fmtMoney(chain.summary.totalAmount)],
          [t("firstAt"), fmtDateTime(chain.summary.firstAt)],
          [t("lastAt"), fmtDateTime(chain.summary.lastAt)],
          [t("parties"), partiesText(chain.summary.parties)],
          [t("reasons"), chain.reasons.map(reasonText).join("；")],
          [t("status"), h("span", { "data-testid": "chain-status" }, tr(chain.status))],
        ],
        "chain-facts",
      ),
      table(
        [t("hop"), t("time"), t("from"), t("to"), t("amount")],
        hops.map((hop, i) => [String(i + 1), fmtDateTime(hop.timestamp), `${hop.from.id} · ${holder(hop.from)}`, `${hop.to.id} · ${holder(hop.to)}`, fmtMoney(hop.amount)]),
        "hops",
      ),
      reviewForm(chain),
      h("div", { id: "side" }),
    );
    // Accounts in columns by how many hops the money took to reach them (first reach, in time
    // order), placed directly: no layout to compute for a chain of hundreds of accounts.
    const depth = new Map<string, number>();
    const accounts = new Map<string, HopAccount>();
    for (const hop of hops) {
      if (!depth.has(hop.from.id)) depth.set(hop.from.id, 0);
      if (!depth.has(hop.to.id)) depth.set(hop.to.id, (depth.get(hop.from.id) ?? 0) + 1);
      accounts.set(hop.from.id, hop.from);
      accounts.set(hop.to.id, hop.to);
    }
    const rows = new Map<number, number>();
    const nodes: NodeData[] = [...accounts.values()].map((a) => {
      const column = depth.get(a.id) ?? 0;
      const row = rows.get(column) ?? 0;
      rows.set(column, row + 1);
      return { id: `a:${a.id}`, kind: "account", label: `${a.id}\n${holder(a)}`, accountId: a.id, tip: `${a.id} · ${holder(a)}`, position: { x: column * 220, y: row * 70 } } as NodeData;
    });
    const edges: EdgeData[] = hops.map((hop, i) => ({ id: `t:${hop.txId}`, source: `a:${hop.from.id}`, target: `a:${hop.to.id}`, kind: "hop", label: `#${i + 1} ${fmtMoney(hop.amount)}`, tip: `#${i + 1} ${fmtDateTime(hop.timestamp)} · ${fmtMoney(hop.amount)} · ${hop.txId}` }));
    await graph.draw(nodes, edges, { layout: "preset", onTap: expand, onHover: hover });
    setFilters([]);
    showGraphInfo();
  });
}

/** A chain by id, found among the alerts of one of its accounts (the API lists chains by
 * filter): ids first, a page at a time, then the one chain with its hops. */
async function fetchChain(chainId: string, accountId: string): Promise<Chain> {
  let after: string | null = null;
  for (;;) {
    type Page = { riskChains: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const page: Page = await query<Page>(Q.CHAIN_IDS, { account: accountId, after });
    const edges = page.riskChains.edges;
    const at = edges.findIndex((e) => e.node.id === chainId);
    if (at >= 0) {
      const before = at > 0 ? edges[at - 1].cursor : after;
      const data = await query<{ riskChains: { edges: { node: Chain }[] } }>(Q.CHAIN, { account: accountId, after: before });
      const chain = data.riskChains.edges[0]?.node;
      if (chain?.id === chainId) return chain;
    }
    if (!page.riskChains.pageInfo.hasNextPage) break;
    after = page.riskChains.pageInfo.endCursor;
  }
  throw new Error(`${t("chain")} ${chainId}: ${t("noResults")}`);
}

function reviewForm(chain: Chain): HTMLElement {
  const history = h("div", { "data-testid": "history" }, historyTable(chain.reviews));
  if (!caps?.riskTeam) return history;
  const select = h("select", { "data-testid": "review-status" }, ...STATUSES.map((s) => h("option", { value: s, selected: s === chain.status }, tr(s)))) as HTMLSelectElement;
  const note = h("input", { type: "text", "data-testid": "review-note", placeholder: t("note") }) as HTMLInputElement;
  const outcome = h("span", { "data-testid": "review-outcome" });
  const form = h(
    "form",
    { class: "review", onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        const { reviewRiskChain } = await query<{ reviewRiskChain: { status: string; reviews: Review[] } }>(Q.REVIEW, { id: chain.id, status: select.value, note: note.value || null });
        outcome.textContent = t("saved");
        const status = document.querySelector('[data-testid="chain-status"]');
        if (status) status.textContent = tr(reviewRiskChain.status);
        history.replaceChildren(historyTable(reviewRiskChain.reviews));
      } catch (error) {
        outcome.textContent = message(error);
      }
    } },
    h("h3", {}, t("setStatus")),
    select,
    note,
    h("button", { type: "submit", "data-testid": "review-save" }, t("setStatus")),
    outcome,
  );
  return h("div", {}, form, history);
}

function historyTable(reviews: Review[]): HTMLElement {
  return h("div", {}, h("h3", {}, t("history")), table([t("status"), t("note"), t("by"), t("at")], reviews.map((r) => [tr(r.status), r.note ?? "", r.by, fmtDateTime(r.at)]), "history-table"));
}

// --- alert queue -------------------------------------------------------------------------

function openAlerts(): void {
  const form = h("form", { class: "filters", "data-testid": "alert-filters" },
    h("label", {}, `${t("typology")} `, h("input", { name: "typology", type: "text", size: 12 })),
    h("label", {}, `${t("minScore")} `, h("input", { name: "minScore", type: "number", step: "any", min: "0", size: 5 })),
    h("label", {}, `${t("status")} `, h("select", { name: "status" }, h("option", { value: "" }, t("any")), ...STATUSES.map((s) => h("option", { value: s }, tr(s))))),
    h("label", {}, `${t("since")} `, h("input", { name: "since", type: "date" })),
    h("label", {}, `${t("until")} `, h("input", { name: "until", type: "date" })),
    h("button", { type: "submit" }, t("apply")),
  ) as HTMLFormElement;
  const list = h("div", {});
  const load = async (): Promise<void> => {
    const values = new FormData(form);
    const filter: Record<string, unknown> = {};
    const text = (name: string): string => String(values.get(name) ?? "").trim();
    if (text("typology")) filter.typology = text("typology");
    if (text("minScore")) filter.minScore = Number(text("minScore"));
    if (text("status")) filter.status = text("status");
    if (text("since")) filter.since = text("since");
    if (text("until")) filter.until = text("until");
    const data = await query<{ riskChains: { totalCount: number; edges: { node: Chain & { hops: { from: { id: string } }[] } }[] } }>(Q.ALERTS, { filter, first: 50 });
    const chains = data.riskChains.edges.map((e) => e.node);
    list.replaceChildren(
      h("p", {}, `${fmtNumber(data.riskChains.totalCount)} ${t("chains")}`),
      table(
        [t("id"), t("typology"), t("score"), t("hops"), t("totalAmount"), t("firstAt"), t("status"), t("history")],
        chains.map((c) => [
          link(c.id, () => openChain(c.id, c.hops[0]?.from.id ?? ""), "alert-open"),
          c.typology,
          fmtNumber(c.score),
          fmtNumber(c.hopCount),
          fmtMoney(c.summary.totalAmount),
          fmtDateTime(c.summary.firstAt),
          h("span", { "data-testid": "alert-status", "data-chain": c.id }, tr(c.status)),
          c.reviews.map((r) => `${tr(r.status)} ${fmtDateTime(r.at)}${r.note ? ` “${r.note}”` : ""}`).join("；"),
        ]),
        "alerts",
      ),
    );
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void load().catch((error) => list.replaceChildren(h("p", { class: "error" }, message(error))));
  });
  setView("alerts", async () => {
    el("detail").replaceChildren(h("h2", {}, t("alerts")), form, list);
    graph.clear();
    el("graph-info").textContent = "";
    await load();
  });
}

// --- corporate group ---------------------------------------------------------------------

interface Enterprise {
  id: string;
  name: string | null;
  industry: string | null;
  creditCode: string | null;
  deposits: number | null;
  loans: number | null;
  creditLimit: number | null;
  group?: { id: string } | null;
}

interface Group {
  id: string;
  memberCount: number;
  deposits: number;
  loans: number;
  creditLimit: number;
  guaranteesGiven: number;
  guaranteesReceived: number;
  exposure: number;
  controller: Named | null;
  members: { share: number | null; enterprise: Named & { integratedOwners: { share: number; holder: Named | null }[] } }[];
  guaranteeCircles: { id: string; members: (Named | null)[] }[];
}

const partyNodeId = (p: Named): string => (p.__typename === "Enterprise" ? `e:${p.id}` : `p:${p.id}`);

function partyNode(p: Named): NodeData {
  const enterprise = p.__typename === "Enterprise";
  return enterprise
    ? { id: `e:${p.id}`, kind: "enterprise", label: p.name ?? p.id, enterpriseId: p.id, tip: `${t("enterprise")} ${p.name ?? ""} (${p.id})` }
    : { id: `p:${p.id}`, kind: "person", label: p.name ?? p.id, personId: p.id, tip: `${t("person")} ${p.name ?? ""} (${p.id})` };
}

function openEnterprise(id: string): void {
  setHash(`#/enterprise/${encodeURIComponent(id)}`);
  setView("group", async () => {
    const { enterprise: e } = await query<{ enterprise: Enterprise }>(Q.ENTERPRISE.replace("group { id }", caps?.seesRisk ? "group { id }" : ""), { id });
    const detail = el("detail");
    detail.replaceChildren(
      h("h2", { "data-testid": "enterprise-name" }, `${t("enterprise")} · ${e.name ?? e.id}`),
      facts([
        [t("id"), e.id],
        ["industry", e.industry ?? "—"],
        ["credit code", e.creditCode ?? "—"],
        [t("deposits"), fmtMoney(e.deposits)],
        [t("loans"), fmtMoney(e.loans)],
        ["credit limit", fmtMoney(e.creditLimit)],
      ]),
    );
    if (!e.group) {
      await graph.draw([partyNode({ __typename: "Enterprise", id: e.id, name: e.name })], [], { layout: "concentric", onHover: hover });
      setFilters([]);
      showGraphInfo();
      return;
    }
    const { corporateGroup: g } = await query<{ corporateGroup: Group }>(Q.GROUP, { id: e.group.id });
    const nodes: NodeData[] = [];
    const edges: EdgeData[] = [];
    if (g.controller) nodes.push({ ...partyNode(g.controller), kind: g.controller.__typename === "Enterprise" ? "enterprise" : "person" });
    for (const m of g.members) {
      nodes.push(partyNode({ ...m.enterprise, __typename: "Enterprise" }));
      for (const o of m.enterprise.integratedOwners) {
        if (!o.holder) continue;
        nodes.push(partyNode(o.holder));
        edges.push({ id: `s:${partyNodeId(o.holder)}|${m.enterprise.id}`, source: partyNodeId(o.holder), target: `e:${m.enterprise.id}`, kind: "share", label: fmtShare(o.share), strength: o.share, tip: `${o.holder.name ?? o.holder.id} → ${m.enterprise.name ?? m.enterprise.id}: ${t("share")} ${fmtShare(o.share)}` });
      }
    }
    for (const circle of g.guaranteeCircles) {
      const ms = circle.members.filter((m): m is Named => m !== null);
      ms.forEach((m, i) => {
        const next = ms[(i + 1) % ms.length];
        nodes.push(partyNode(m));
        if (next && next !== m) edges.push({ id: `g:${circle.id}:${i}`, source: partyNodeId(m), target: partyNodeId(next), kind: "guarantee", label: t("circles"), tip: `${t("circles")} ${circle.id}` });
      });
    }
    detail.append(
      h("h3", { "data-testid": "group-title" }, `${t("group")} ${g.id}`),
      facts([
        [t("controller"), g.controller ? `${g.controller.name ?? g.controller.id}` : "—"],
        [t("members"), fmtNumber(g.memberCount)],
        [t("deposits"), fmtMoney(g.deposits)],
        [t("loans"), fmtMoney(g.loans)],
        ["exposure", fmtMoney(g.exposure)],
      ], "group"),
      table([t("enterprise"), t("share")], g.members.map((m) => [link(m.enterprise.name ?? m.enterprise.id, () => openEnterprise(m.enterprise.id)), fmtShare(m.share)]), "group-members"),
      h("h3", {}, `${t("circles")} (${g.guaranteeCircles.length})`),
      h("ul", { "data-testid": "circles" }, ...g.guaranteeCircles.map((c) => h("li", {}, `${c.id}: ${c.members.map((m) => m?.name ?? m?.id ?? "—").join(" → ")}`))),
    );
    await graph.draw(nodes, edges, { layout: "breadthfirst", onTap: expand, onHover: hover });
    if (g.controller) graph.focus(partyNodeId(g.controller));
    setFilters([...new Set(edges.map((x) => x.kind))]);
    showGraphInfo();
  });
}

// --- exports -----------------------------------------------------------------------------

function exportAs(kind: "png" | "graphml" | "json"): void {
  const name = `relgraph-${viewName}`;
  if (kind === "png") {
    const blob = graph.png();
    if (blob) download(`${name}.png`, blob);
  } else if (kind === "graphml") {
    download(`${name}.graphml`, new Blob([graph.graphml()], { type: "application/graphml+xml" }));
  } else {
    download(`${name}.json`, new Blob([graph.json()], { type: "application/json" }));
  }
}

// --- start -------------------------------------------------------------------------------

function start(): void {
  graph = new GraphView(el("graph"));
  setLang("zh");
  labelStatic();
  el("signin-form").addEventListener("submit", (e) => void signIn(e));
  el("signout").addEventListener("click", signOut);
  el("search-form").addEventListener("submit", (e) => void search(e));
  el("nav-alerts").addEventListener("click", () => {
    if (location.hash === "#/alerts") openAlerts();
    else location.hash = "#/alerts";
  });
  window.addEventListener("hashchange", route);
  el("lang").addEventListener("click", () => {
    setLang((getLang() === "zh" ? "en" : "zh") as Lang);
    labelStatic();
    rerender?.();
  });
  el("relayout").addEventListener("click", () => {
    clickedAt = performance.now();
    void graph.relayout().then(showGraphInfo);
  });
  el("export-png").addEventListener("click", () => exportAs("png"));
  el("export-graphml").addEventListener("click", () => exportAs("graphml"));
  el("export-json").addEventListener("click", () => exportAs("json"));
  // For the end-to-end tests and the benchmark: the drawing, never the key.
  (window as unknown as { relgraphExplorer: unknown }).relgraphExplorer = { graph };
  document.body.dataset.ready = "1";
  el<HTMLInputElement>("key").focus();
}

start();
