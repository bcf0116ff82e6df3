// Labels in Chinese (default) and English; numbers and dates in the Beijing locale.

export type Lang = "zh" | "en";

const LABELS = {
  title: ["关系图谱调查工作台", "Relationship graph explorer"],
  keyPlaceholder: ["API 密钥", "API key"],
  signIn: ["登录", "Sign in"],
  signOut: ["退出", "Sign out"],
  keyNote: ["密钥只保存在本标签页内存中，关闭即失效。", "The key is kept in this tab's memory only."],
  badKey: ["密钥无效：请检查后重试。", "Unknown key: check it and try again."],
  role: ["角色", "Role"],
  roleRisk: ["风控 / 管理员", "risk / admin"],
  roleAnalyst: ["分析员", "analyst"],
  roleCampaign: ["营销", "campaign"],
  roleIngest: ["数据接入", "ingest"],
  ingestOnly: ["此密钥仅用于数据接入：在此无法查看任何数据。", "This key is for data ingestion only: it can read nothing here."],
  search: ["搜索", "Search"],
  searchPlaceholder: ["姓名、拼音、手机号、邮箱、证件号、客户号、账号、企业名称或信用代码", "name, pinyin, phone, email, id number, customer, account, enterprise or credit code"],
  alerts: ["预警队列", "Alert queue"],
  noResults: ["没有结果。", "No results."],
  person: ["客户", "Person"],
  enterprise: ["企业", "Enterprise"],
  account: ["账户", "Account"],
  household: ["家庭", "Household"],
  profile: ["基本信息", "Profile"],
  records: ["源系统记录", "Source records"],
  accounts: ["账户", "Accounts"],
  network: ["隐藏关系网络", "Hidden network"],
  members: ["成员", "Members"],
  value: ["价值", "Value"],
  productGap: ["产品缺口", "Product gap"],
  products: ["持有产品", "Products"],
  name: ["姓名", "Name"],
  id: ["编号", "Id"],
  segment: ["客群", "Segment"],
  riskRating: ["风险等级", "Risk rating"],
  riskFlags: ["风险标记", "Risk flags"],
  birthYear: ["出生年份", "Birth year"],
  birthDate: ["出生日期", "Birth date"],
  gender: ["性别", "Gender"],
  aum: ["资产管理规模", "AUM"],
  deposits: ["存款", "Deposits"],
  loans: ["贷款", "Loans"],
  cardSpend: ["信用卡消费", "Card spend"],
  system: ["系统", "System"],
  customerId: ["客户号", "Customer id"],
  idNumber: ["证件号", "Id number"],
  phone: ["手机", "Phone"],
  email: ["邮箱", "Email"],
  matchScore: ["匹配得分", "Match score"],
  matchEvidence: ["匹配依据", "Match evidence"],
  product: ["产品", "Product"],
  balance: ["余额", "Balance"],
  status: ["状态", "Status"],
  openedAt: ["开户日期", "Opened"],
  head: ["户主", "Head"],
  size: ["人数", "Size"],
  totalAum: ["家庭资产", "Total AUM"],
  strength: ["关联强度", "Strength"],
  evidence: ["关联证据", "Evidence"],
  filterEvidence: ["按证据类型筛选", "Filter by evidence kind"],
  suppressed: ["已抑制（公共标识，不作证据）", "suppressed (public identifier, not evidence)"],
  clickExpand: ["点击节点展开；悬停查看证据。", "Click a node to expand it; hover for evidence."],
  chain: ["资金链路", "Money flow"],
  typology: ["类型", "Typology"],
  score: ["风险评分", "Score"],
  reasons: ["原因", "Reasons"],
  hops: ["跳", "Hops"],
  hop: ["跳次", "Hop"],
  from: ["转出", "From"],
  to: ["转入", "To"],
  amount: ["金额", "Amount"],
  time: ["时间", "Time"],
  parties: ["涉及主体", "Parties"],
  totalAmount: ["总金额", "Total amount"],
  firstAt: ["首笔时间", "First"],
  lastAt: ["末笔时间", "Last"],
  layeringCheck: ["分层交易检查", "Layering check"],
  chains: ["链路", "Chains"],
  group: ["企业集团", "Corporate group"],
  controller: ["实际控制人", "Controller"],
  share: ["综合持股", "Integrated share"],
  circles: ["担保圈", "Guarantee circles"],
  owners: ["股东（综合持股）", "Owners (integrated share)"],
  minScore: ["最低评分", "Min score"],
  since: ["起始日期", "Since"],
  until: ["截止日期", "Until"],
  any: ["全部", "any"],
  apply: ["筛选", "Apply"],
  open: ["打开", "Open"],
  note: ["备注", "Note"],
  setStatus: ["设置处置状态", "Set status"],
  history: ["处置记录", "History"],
  by: ["操作人", "By"],
  at: ["时间", "At"],
  saved: ["已保存。", "Saved."],
  relayout: ["力导向重新布局", "Force layout"],
  exportPng: ["导出 PNG", "Export PNG"],
  exportGraphml: ["导出 GraphML", "Export GraphML"],
  exportJson: ["导出 JSON", "Export JSON"],
  loading: ["加载中…", "Loading…"],
  nodes: ["节点", "nodes"],
  edges: ["连线", "links"],
  layoutMs: ["布局耗时", "layout"],
  notAllowed: ["当前密钥的角色无权查看此内容。", "This key's role may not see this."],
  roles: ["任职", "Positions"],
  OPEN: ["待处理", "open"],
  ESCALATED: ["已升级", "escalated"],
  DISMISSED: ["已排除", "dismissed"],
  REPORTED: ["已上报", "reported"],
  device: ["设备", "device"],
  address: ["地址", "address"],
  id_document: ["证件", "id document"],
  family: ["亲属", "family"],
  transfer: ["转账", "transfer"],
} as const;

export type LabelKey = keyof typeof LABELS;

let lang: Lang = "zh";

export function getLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
}

export function t(key: LabelKey): string {
  return LABELS[key][lang === "zh" ? 0 : 1];
}

/** A label when one exists (status codes, evidence kinds), else the word itself. */
export function tr(word: string): string {
  return word in LABELS ? t(word as LabelKey) : word;
}

const LOCALE = "zh-CN";
const ZONE = "Asia/Shanghai";
const numberFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const moneyFormat = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  timeZone: ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});
const dateFormat = new Intl.DateTimeFormat(LOCALE, { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" });

export function fmtNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : numberFormat.format(value);
}

export function fmtMoney(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `¥${moneyFormat.format(value)}`;
}

export function fmtShare(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${numberFormat.format(value * 100)}%`;
}

/** An ISO-8601 timestamp or date, shown in Beijing time. */
export function fmtDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) return value;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? dateFormat.format(parsed) : dateTimeFormat.format(parsed);
}
