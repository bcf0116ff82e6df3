// Every operation the page sends, in one place. Fields a role may not read are left out of
// its queries (the API refuses them rather than answering null).

export const SEARCH = `query Search($text: String!) {
  search(text: $text, first: 20) {
    totalCount
    edges { node {
      matchedOn
      person { id name }
      enterprise { id name }
      account { id product holder { __typename id name } }
      household { id size }
    } }
  }
}`;

export function personQuery(seesRisk: boolean): string {
  const risk = seesRisk ? "birthDate gender riskRating riskFlags network { id size }" : "";
  const match = seesRisk ? "matchScore matchEvidence { comparison level weight }" : "";
  return `query Person($id: ID!) {
  customer(id: $id) {
    id name birthYear segment aum deposits loans cardSpend12m products ${risk}
    records { customerId sourceSystem name idNumber phone email ${match} }
    accounts(first: 50) { totalCount edges { node { id product balance status openedAt } } }
    roles(first: 20) { edges { node { role enterprise { id name } } } }
    household { id }
  }
}`;
}

export const HOUSEHOLD = `query Household($id: ID!) {
  household(id: $id) {
    id size totalAum deposits loans cardSpend products missingProducts
    head { id name } members { id name }
  }
}`;

export const NETWORK = `query Network($id: ID!) {
  hiddenNetwork(customerId: $id) {
    id size
    members { id name }
    links { a { id } b { id } strength evidence { kind ref weight count } }
    suppressed { kind ref persons usedBy }
  }
}`;

export const PERSON_ACCOUNTS = `query PersonAccounts($id: ID!) {
  customer(id: $id) { id accounts(first: 50) { edges { node { id product balance } } } }
}`;

export const ACCOUNT = `query Account($id: ID!) {
  account(id: $id) { id product balance status openedAt holder { __typename id name } }
}`;

const CHAIN_FIELDS = `id typology score hopCount status
  reasons { reason weight valueNumber valueText valueId }
  summary { totalAmount firstAt lastAt parties { __typename id name } }
  reviews { status note by at }`;

export const ALERTS = `query Alerts($filter: RiskChainFilter, $first: Int) {
  riskChains(filter: $filter, first: $first) {
    totalCount
    edges { node { ${CHAIN_FIELDS} hops(first: 1) { from { id } } } }
  }
}`;

/** The chain ids an account's alerts hold, a page at a time (to find one chain's cursor). */
export const CHAIN_IDS = `query ChainIds($account: ID!, $after: String) {
  riskChains(filter: {accountId: $account, minScore: 0}, first: 100, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** One chain in full: the one after \`after\` in the account's alerts. */
export const CHAIN = `query Chain($account: ID!, $after: String) {
  riskChains(filter: {accountId: $account, minScore: 0}, first: 1, after: $after) {
    edges { node { ${CHAIN_FIELDS}
      hops(first: 200) {
        txId amount timestamp
        from { id product holder { __typename id name } }
        to { id product holder { __typename id name } }
      }
    } }
  }
}`;

export const REVIEW = `mutation Review($id: ID!, $status: ChainStatus!, $note: String) {
  reviewRiskChain(id: $id, status: $status, note: $note) { id status reviews { status note by at } }
}`;

export const LAYERING = `query Layering($id: ID!) {
  layeringCheck(accountId: $id) {
    score truncated
    reasons { reason weight valueNumber valueText }
    chains { id typology score hopCount }
  }
}`;

export const ENTERPRISE = `query Enterprise($id: ID!) {
  enterprise(id: $id) { id name industry creditCode deposits loans creditLimit group { id } }
}`;

export const GROUP = `query Group($id: ID!) {
  corporateGroup(id: $id) {
    id memberCount deposits loans creditLimit guaranteesGiven guaranteesReceived exposure
    controller { __typename id name }
    members { share enterprise { id name integratedOwners { share holder { __typename id name } } } }
    guaranteeCircles { id members { __typename id name } }
  }
}`;
