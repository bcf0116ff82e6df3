// The page's only way to data: POST /graphql on this server with the key held in memory.
// Nothing is written to localStorage, sessionStorage, cookies or the URL.

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string };
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
}

let apiKey: string | null = null;

export function setKey(key: string | null): void {
  apiKey = key;
}

export function hasKey(): boolean {
  return apiKey !== null;
}

export interface Answer<T> {
  data: T | null;
  errors: GraphQLErrorShape[];
}

/** One operation; HTTP failures throw, GraphQL errors come back beside the data. */
export async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<Answer<T>> {
  if (apiKey === null) throw new ApiError("no key", "UNAUTHENTICATED", 401);
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
    credentials: "omit",
    cache: "no-store",
  });
  let body: { data?: T | null; errors?: GraphQLErrorShape[] } = {};
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, undefined, response.status);
  }
  const errors = body.errors ?? [];
  if (!response.ok && !body.data) {
    const first = errors[0];
    throw new ApiError(first?.message ?? `HTTP ${response.status}`, first?.extensions?.code, response.status);
  }
  return { data: body.data ?? null, errors };
}

/** Data or a thrown error: for operations whose every field the role may read. */
export async function query<T>(text: string, variables: Record<string, unknown> = {}): Promise<T> {
  const answer = await request<T>(text, variables);
  if (answer.errors.length || answer.data === null) {
    const first = answer.errors[0];
    throw new ApiError(first?.message ?? "no data", first?.extensions?.code, 200);
  }
  return answer.data;
}

/** What the key may see, learnt by asking (the page mirrors the API, it decides nothing). */
export interface Capabilities {
  riskTeam: boolean; // riskChains, layeringCheck, reviews (risk and admin keys)
  seesRisk: boolean; // networks, risk fields, group structure (all but campaign)
}

/** Three small requests at once (the answers' root fields are non-null, so a refused field
 * would void the others' data in a shared request): a wrong key fails the first with 401. */
export async function probeCapabilities(): Promise<Capabilities> {
  const [, risk, analyst] = await Promise.all([
    query<unknown>("query Probe { graphStats { nodes { kind } } }"),
    request<unknown>("query ProbeRisk { riskChains(first: 1) { totalCount } }"),
    request<unknown>("query ProbeAnalyst { corporateGroups(first: 1, filter: {hasGuaranteeCircle: true}) { totalCount } }"),
  ]);
  return { riskTeam: !risk.errors.length, seesRisk: !analyst.errors.length };
}
