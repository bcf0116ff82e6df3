"""``search``: what each kind of text finds, what each role may search by, the rate limit,
the audit line, and the attack a campaign key would try on a masked phone."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.auth import KeyRing, Principal, Role
from relgraph.api.context import Context
from relgraph.api.masking import mask_phone
from relgraph.api.ratelimit import RateLimiter
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.api.schema import build_schema
from relgraph.config import ConfigError, Settings
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.record_rules import ID_CHECK, ID_WEIGHTS
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate

from .conftest import KEYS

SEARCH = """query Find($text: String!, $kinds: [SearchKind!], $first: Int) {
  search(text: $text, kinds: $kinds, first: $first) {
    totalCount
    edges { node { matchedOn person { id name } enterprise { id name }
                   account { id } household { id size } } }
  }
}"""


@pytest.fixture(scope="module")
def zh_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chinese bank (hanzi names, each system's own phone and id spellings), analysed."""
    root = tmp_path_factory.mktemp("search")
    generate(800, 22, root / "bank", "csv", locale="zh")
    data = root / "data"
    with EmbeddedStore(data) as store:
        load_directory(root / "bank", store, data)
        analyze(store, build_projection(store))
    return data


@pytest.fixture(scope="module")
def zh(zh_data: Path) -> ReadModel:
    with EmbeddedStore(zh_data, read_only=True) as store:
        return build_read_model(store)


def search(
    model: ReadModel,
    text: str,
    role: Role = Role.ANALYST,
    kinds: list[str] | None = None,
    limiter: RateLimiter | None = None,
    first: int | None = None,
    id_misses: RateLimiter | None = None,
) -> Any:
    context = Context(
        principal=Principal(role, f"k_{role.value}"),
        model=model,
        request_id="r-test",
        deadline=float("inf"),
        search_limit=limiter,
        id_misses=id_misses,
    )
    variables = {"text": text, "kinds": kinds, "first": first}
    return asyncio.run(
        build_schema().execute(SEARCH, context_value=context, variable_values=variables)
    )


def nodes(result: Any) -> list[dict[str, Any]]:
    assert result.errors is None, result.errors
    return [e["node"] for e in result.data["search"]["edges"]]


def person_ids(result: Any) -> list[str]:
    return [n["person"]["id"] for n in nodes(result) if n["person"]]


def _hanzi_person(model: ReadModel) -> tuple[int, str]:
    """A person with a three-character hanzi name whose phone is on a record."""
    for r, name in enumerate(model.record["name_norm"]):
        if name and len(name) == 3 and not name.isascii() and model.record["phone_norm"][r]:
            return int(model.record_person[r]), name
    raise AssertionError("the zh bank has no such record")


def test_a_hanzi_name_is_found_whole_and_in_part(zh: ReadModel) -> None:
    person, name = _hanzi_person(zh)
    pid = zh.person_ids[person]
    whole = person_ids(search(zh, name, first=100))
    assert whole[0] == pid, "the whole name ranks first"
    assert pid in person_ids(search(zh, name[1:], first=100)), "the given name alone"
    surname = {h.party for h in zh.search_index().find(name[:1], ["NAME"])}
    assert person in surname, "the surname alone (a one-hanzi text is a name)"
    # Not a name it does not contain.
    assert pid not in person_ids(search(zh, name[::-1], first=100))


def test_a_name_typed_in_traditional_characters_finds_the_simplified_record(
    zh: ReadModel,
) -> None:
    import opencc

    to_traditional = opencc.OpenCC("s2t").convert
    names = [n for n in zh.record["name_norm"] if n and not n.isascii()]
    person, name = next(
        (int(zh.record_person[zh.record["name_norm"].index(n)]), n)
        for n in names
        if to_traditional(n) != n
    )
    typed = to_traditional(name)
    assert zh.person_ids[person] in person_ids(search(zh, typed, first=100)), (name, typed)


def test_a_pinyin_name_is_found_whole_in_part_and_by_initials(zh: ReadModel) -> None:
    from pypinyin import lazy_pinyin

    person, name = _hanzi_person(zh)
    syllables = lazy_pinyin(name)
    for text in (
        "".join(syllables),  # zhangxiaoming
        " ".join(syllables).title(),  # Zhang Xiao Ming
        "".join(syllables[1:]),  # the given name
        "".join(s[0] for s in syllables),  # initials
    ):
        # A common name may fall past the first page: look at every hit.
        assert person in {h.party for h in zh.search_index().find(text, ["NAME"])}, text
        assert {n["matchedOn"] for n in nodes(search(zh, text, kinds=["NAME"]))} == {"NAME"}


def test_one_latin_letter_matches_no_name(zh: ReadModel) -> None:
    assert search(zh, "z", kinds=["NAME"]).data["search"]["totalCount"] == 0


def test_phone_email_and_id_number_match_after_normalisation(zh: ReadModel) -> None:
    person, _ = _hanzi_person(zh)
    pid = zh.person_ids[person]
    record = zh.records_of(person)[0]
    phone = zh.record["phone_norm"][record]
    assert pid in person_ids(search(zh, f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"))
    assert pid in person_ids(search(zh, "".join(chr(ord(c) + 0xFEE0) for c in phone)))
    assert pid not in person_ids(search(zh, phone[:-1]))  # exact only
    for r, email in enumerate(zh.record["email_norm"]):
        if email:
            owner = zh.person_ids[int(zh.record_person[r])]
            assert owner in person_ids(search(zh, f"  {email.upper()} "))
            break
    id_number = zh.record["id_number_norm"][record]
    spaced = f"{id_number[:6]} {id_number[6:14]} {id_number[14:].lower()}"
    assert pid in person_ids(search(zh, spaced, Role.ANALYST))
    assert pid in person_ids(search(zh, spaced, Role.RISK))
    assert search(zh, id_number[:-2], Role.RISK, ["ID_NUMBER"]).data["search"]["totalCount"] == 0


def test_ids_find_their_person_account_household_and_enterprise(zh: ReadModel) -> None:
    person, _ = _hanzi_person(zh)
    record = zh.records_of(person)[0]
    assert person_ids(search(zh, zh.record_ids[record])) == [zh.person_ids[person]]
    assert person_ids(search(zh, zh.person_ids[person])) == [zh.person_ids[person]]
    account = int(zh.holds.neighbors(person)[0])
    (hit,) = nodes(search(zh, zh.account_ids[account]))
    assert hit["matchedOn"] == "ACCOUNT_ID"
    assert hit["account"]["id"] == zh.account_ids[account]
    assert hit["person"]["id"] == zh.person_ids[person], "an account comes with its holder"
    household = next(iter(zh.results.household_members))
    (hit,) = nodes(search(zh, household, Role.CAMPAIGN))
    assert hit["household"]["id"] == household
    e = 0
    name = zh.enterprise["name"][e]
    found = nodes(search(zh, name[2:6], kinds=["NAME"], first=100))
    assert zh.enterprise_ids[e] in [n["enterprise"]["id"] for n in found if n["enterprise"]]
    code = zh.enterprise["credit_code_norm"][e]
    (hit,) = nodes(search(zh, code.lower()))
    assert (hit["matchedOn"], hit["enterprise"]["id"]) == ("CREDIT_CODE", zh.enterprise_ids[e])
    # The bank's own id for the firm (its corporate customer number), for every role: the
    # `enterprise(id)` lookup answers it to every role already.
    for role in (Role.ANALYST, Role.CAMPAIGN):
        (hit,) = nodes(search(zh, f" {zh.enterprise_ids[e]} ", role))
        assert (hit["matchedOn"], hit["enterprise"]["id"]) == (
            "ENTERPRISE_ID",
            zh.enterprise_ids[e],
        )


def test_campaign_keys_search_ids_only_and_see_masked_names(zh: ReadModel) -> None:
    person, name = _hanzi_person(zh)
    record = zh.records_of(person)[0]
    for text in (name, zh.record["phone_norm"][record], zh.record["id_number_norm"][record]):
        assert search(zh, text, Role.CAMPAIGN).data["search"]["totalCount"] == 0
    (hit,) = nodes(search(zh, zh.record_ids[record], Role.CAMPAIGN))
    assert hit["person"]["name"].endswith("**")
    for kind in ("NAME", "PHONE", "EMAIL", "ID_NUMBER", "CREDIT_CODE"):
        refused = search(zh, "x", Role.CAMPAIGN, [kind])
        assert refused.errors[0].extensions["code"] == "FORBIDDEN"
        assert f"search(kinds: {kind})" in refused.errors[0].message


@pytest.mark.parametrize(
    ("text", "kinds", "message"),
    [
        ("   ", None, "text must not be empty"),
        ("x" * 101, None, "at most 100 characters"),
        ("x", [], "kinds must name at least one"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    zh: ReadModel, text: str, kinds: list[str] | None, message: str
) -> None:
    result = search(zh, text, kinds=kinds)
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert message in result.errors[0].message


def test_searches_are_rate_limited_per_key(zh: ReadModel) -> None:
    limiter = RateLimiter(3)
    for _ in range(3):
        assert search(zh, "wang", limiter=limiter).errors is None
    refused = search(zh, "wang", limiter=limiter)
    assert refused.errors[0].extensions["code"] == "LIMIT_EXCEEDED"
    assert "3 times a minute; retry after" in refused.errors[0].message
    assert search(zh, "wang", Role.RISK, limiter=limiter).errors is None, "another key"


def test_the_limit_slides_over_a_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.take("k"), limiter.take("k")] == [None, None]
    now[0] = 30.0
    assert limiter.take("k") == 30
    now[0] = 60.5
    assert limiter.take("k") is None


def _post(app: Any, body: Any, key: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/graphql", json=body, headers={"Authorization": f"Bearer {key}"}
            )

    return asyncio.run(go())


def _state(model: ReadModel, tmp_path: Path, rate: int = 60) -> ServiceState:
    state = default_state(tmp_path, KeyRing({key: role for role, key in KEYS.items()}))
    state.model = model
    state.search_limit = RateLimiter(rate)
    return state


def test_a_search_is_audited_with_its_text_as_an_hmac_only(zh: ReadModel, tmp_path: Path) -> None:
    state = _state(zh, tmp_path)
    person, name = _hanzi_person(zh)
    phone = zh.record["phone_norm"][zh.records_of(person)[0]]
    app = create_app(state)
    for text in (name, phone):
        answer = _post(app, {"query": SEARCH, "variables": {"text": text}}, KEYS[Role.RISK])
        assert answer.status_code == 200
        assert "errors" not in answer.json()
    raw = state.audit.path.read_text("utf-8")
    assert name not in raw
    assert phone not in raw
    lines = [json.loads(line) for line in raw.splitlines()]
    assert [line["searched_hmac"] for line in lines] == [
        [state.text_mac(name)],
        [state.text_mac(phone)],
    ]
    assert zh.person_ids[person] in lines[0]["ids"]


def test_a_search_over_the_limit_is_http_429_with_retry_after(
    zh: ReadModel, tmp_path: Path
) -> None:
    app = create_app(_state(zh, tmp_path, rate=1))
    body = {"query": SEARCH, "variables": {"text": "wang"}}
    assert _post(app, body, KEYS[Role.ANALYST]).status_code == 200
    refused = _post(app, body, KEYS[Role.ANALYST])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_attack_a_campaign_key_cannot_confirm_a_masked_phone(zh: ReadModel) -> None:
    """ATTACK: a campaign key reads ``138****5678`` and tries all 10,000 numbers behind it.
    No candidate gets a hit, a count, an error of its own, or a measurably different time."""
    person, _ = _hanzi_person(zh)
    record = zh.records_of(person)[0]
    phone = zh.record["phone_norm"][record]
    masked = mask_phone(phone)
    assert masked is not None
    assert "****" in masked
    prefix, suffix = masked.split("****")
    candidates = [f"{prefix}{i:04d}{suffix}" for i in range(10_000)]
    assert phone in candidates
    # Unlimited, so the limit is not what stops the attack (it stops it sooner in serving).
    index = zh.search_index()
    from relgraph.api.search import CAMPAIGN_KINDS

    assert not [c for c in candidates if index.find(c, CAMPAIGN_KINDS)]
    # Through the API, the true number and some false ones answer byte for byte alike:
    # by default, and with the phone kind named (refused the same way for every text).
    sample = [phone, *candidates[:20]]
    for kinds in (None, ["CUSTOMER_ID", "ACCOUNT_ID", "HOUSEHOLD_ID"], ["PHONE"]):
        answers = set()
        for text in sample:
            result = search(zh, text, Role.CAMPAIGN, kinds)
            answers.add(
                json.dumps(
                    [result.data, [(e.message, e.extensions) for e in result.errors or []]],
                    sort_keys=True,
                )
            )
        assert len(answers) == 1, kinds
    # Timing: the real number and a false one, alternated, take the same time (medians
    # within noise: 25% or 50 µs, whichever is larger).
    false = candidates[0] if candidates[0] != phone else candidates[1]
    times: dict[str, list[float]] = {phone: [], false: []}
    for _ in range(200):
        for text in (phone, false):
            started = time.perf_counter()
            index.find(text, CAMPAIGN_KINDS)
            times[text].append(time.perf_counter() - started)
    real, fake = statistics.median(times[phone]), statistics.median(times[false])
    assert abs(real - fake) <= max(0.25 * fake, 50e-6), (real, fake)


def _candidates(masked: str, birth: str, male: bool) -> list[str]:
    """Every well-formed 18-character id with ``masked``'s district and check character, the
    birth date and the gender: what an analyst key can list from what it reads."""
    district, check = masked[:4], masked[-1]
    found = []
    for rest in range(100):
        for seq in range(1 if male else 0, 1000, 2):
            body = f"{district}{rest:02d}{birth}{seq:03d}"
            weighted = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
            if ID_CHECK[weighted % 11] == check:
                found.append(body + check)
    return found


def _id_search(model: ReadModel, text: str, misses: RateLimiter, role: Role = Role.ANALYST) -> Any:
    return search(model, text, role, first=5, id_misses=misses)


def test_attack_an_analyst_key_cannot_complete_a_masked_id_number(zh: ReadModel) -> None:
    """ATTACK: an analyst key reads ``1101***********X``, the birth date and the gender, lists
    the few thousand well-formed numbers they leave and searches them one by one. After the
    budget of misses every id-shaped search is refused alike, the real number included."""
    person, _ = _hanzi_person(zh)
    real = str(zh.record["id_number_norm"][zh.records_of(person)[0]])
    q = f'{{ customer(id: "{zh.person_ids[person]}") {{ birthDate gender records {{ idNumber }} }} }}'
    seen = asyncio.run(
        build_schema().execute(
            q,
            context_value=Context(
                principal=Principal(Role.ANALYST, "k_a"),
                model=zh,
                request_id="r",
                deadline=float("inf"),
            ),
        )
    ).data["customer"]
    birth = seen["birthDate"].replace("-", "")
    candidates = _candidates(seen["records"][0]["idNumber"], birth, seen["gender"] == "M")
    assert real in candidates
    assert len(candidates) > 100, "the mask alone leaves many numbers"
    guesses = [*[c for c in candidates if c != real][:25], real]
    misses = RateLimiter(20, window=86_400)
    answers = [_id_search(zh, g, misses) for g in guesses]
    assert all(a.errors is None and a.data["search"]["totalCount"] == 0 for a in answers[:20])
    # The wait counts down between answers (a slow machine crosses a second): the same
    # refusal is the same text but for the seconds it names.
    refusals = {(re.sub(r"after \d+ s", "after N s", a.errors[0].message),
                 a.errors[0].extensions["code"]) for a in answers[20:]}  # fmt: skip
    assert len(refusals) == 1, "the real number is refused like the false ones"
    message, code = refusals.pop()
    assert code == "LIMIT_EXCEEDED"
    assert re.fullmatch(
        r"Id-number searches paused: 20 by this key in 24 hours found no one\. "
        r"Retry after N s \(about 24 h\), or ask a risk officer\.",
        message,
    ), message
    assert re.search(r"Retry after 86[34]\d\d s ", answers[-1].errors[0].message)
    # The other kinds still answer, and another analyst key has its own budget.
    assert _id_search(zh, "wang", misses).errors is None
    other = Context(
        principal=Principal(Role.ANALYST, "k_other"),
        model=zh,
        request_id="r",
        deadline=float("inf"),
        id_misses=misses,
    )
    found = asyncio.run(
        build_schema().execute(SEARCH, context_value=other, variable_values={"text": real})
    )
    assert zh.person_ids[person] in person_ids(found)


def test_found_ids_names_and_risk_keys_spend_no_id_budget(zh: ReadModel) -> None:
    person, name = _hanzi_person(zh)
    real = str(zh.record["id_number_norm"][zh.records_of(person)[0]])
    misses = RateLimiter(1, window=86_400)
    for _ in range(5):
        assert zh.person_ids[person] in person_ids(_id_search(zh, real, misses))
        assert _id_search(zh, name, misses).errors is None
        assert _id_search(zh, "13800000000", misses).errors is None  # a phone, not an id
        assert _id_search(zh, "110101199001011239", misses, Role.RISK).errors is None
    assert misses.wait("k_analyst") is None
    assert _id_search(zh, "110101199001011239", misses).errors is None  # the one miss
    assert _id_search(zh, real, misses).errors[0].extensions["code"] == "LIMIT_EXCEEDED"


def test_attack_wrapping_an_id_number_does_not_escape_the_budget(zh: ReadModel) -> None:
    """ATTACK: the lookup strips the text with ``str.strip``, which drops more than spaces
    (``\\x1c``, ``\\x85``, a line separator): an id number wrapped in one was found, yet the
    budget, judging the unstripped text, neither counted its misses nor refused it once spent."""
    person, _ = _hanzi_person(zh)
    real = str(zh.record["id_number_norm"][zh.records_of(person)[0]])
    for before, after in (("\x1c", ""), ("\x85", ""), ("\u2028", ""), ("", "\u1680"), (' ="', '"')):
        misses = RateLimiter(1, window=86_400)
        miss = _id_search(zh, f"{before}110101199001011239{after}", misses)
        assert miss.data["search"]["totalCount"] == 0
        assert misses.wait("k_analyst") is not None, f"{before!r}…{after!r}: a miss uncounted"
        refused = _id_search(zh, before + real + after, misses)
        assert refused.errors[0].extensions["code"] == "LIMIT_EXCEEDED", (before, after)


def test_attack_concurrent_misses_do_not_outrun_the_budget(
    zh: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ATTACK: searches run in a pool of worker threads, and the budget was checked before
    the lookup but spent after it, so misses sent at once all passed the check: with one
    miss left, a key sending a burst had each of them answered. A miss is now counted
    before the lookup and given back when the number is found."""
    index = zh.search_index()
    lookup = index.find

    def slow(text: str, kinds: Any) -> Any:
        time.sleep(0.3)  # a lookup the other requests overtake, as on a loaded server
        return lookup(text, kinds)

    monkeypatch.setattr(index, "find", slow)
    misses = RateLimiter(1, window=86_400)
    guesses = ["110101199001011239", "110101199001011247"]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda g: _id_search(zh, g, misses), guesses))
    codes = sorted(a.errors[0].extensions["code"] if a.errors else "answered" for a in answers)
    assert codes == ["LIMIT_EXCEEDED", "answered"]


def test_a_found_id_gives_its_place_in_the_budget_back(zh: ReadModel) -> None:
    person, _ = _hanzi_person(zh)
    real = str(zh.record["id_number_norm"][zh.records_of(person)[0]])
    misses = RateLimiter(1, window=86_400)
    for _ in range(3):
        assert zh.person_ids[person] in person_ids(_id_search(zh, real, misses))
    assert misses.wait("k_analyst") is None


def test_the_id_budget_slides_over_a_day() -> None:
    now = [0.0]
    misses = RateLimiter(2, clock=lambda: now[0], window=86_400)
    misses.record("k")
    now[0] = 3_600.0
    misses.record("k")
    assert misses.wait("k") == 82_800
    now[0] = 86_400.5
    assert misses.wait("k") is None
    misses.record("k")
    assert misses.wait("k") == 3_600


def test_an_exhausted_id_budget_is_http_429_and_configurable(zh: ReadModel, tmp_path: Path) -> None:
    state = _state(zh, tmp_path)
    state.id_misses = RateLimiter(1, window=86_400)
    app = create_app(state)
    body = {"query": SEARCH, "variables": {"text": "110101199001011239"}}
    assert _post(app, body, KEYS[Role.ANALYST]).status_code == 200
    refused = _post(app, body, KEYS[Role.ANALYST])
    assert refused.status_code == 429
    assert 86_000 <= int(refused.headers["Retry-After"]) <= 86_400
    lines = [json.loads(line) for line in state.audit.path.read_text("utf-8").splitlines()]
    assert [line["outcome"] for line in lines] == ["ok", "limited"]
    assert lines[1]["searched_hmac"] == [state.text_mac("110101199001011239")]
    assert Settings.from_env({"RELGRAPH_ID_MISSES": "5"}).id_misses == 5
    with pytest.raises(ConfigError, match="RELGRAPH_ID_MISSES"):
        Settings.from_env({"RELGRAPH_ID_MISSES": "0"})


def test_pinyin_with_tone_marks_finds_and_is_found_without_them() -> None:
    # A wealth system's 'Zhāng Wěi', and an investigator who types tone marks.
    import pandas as pd

    from relgraph.api.search_index import name_query, name_table

    table = name_table(pd.Series(["zhāng wěi", "吕芳"], index=[0, 1], dtype=object))
    for text, owner in (("zhangwei", 0), ("Zhāng Wěi", 0), ("wei", 0), ("Lǚ Fāng", 1)):
        assert table.prefix(name_query(text))[0].tolist() == [owner], text


def test_a_name_with_a_middle_dot_is_found_as_written_and_without_it() -> None:
    # Uyghur and other transcribed names are written with a middle dot, which systems
    # spell · (U+00B7), • or ・, or leave out; an investigator types any of them.
    import pandas as pd

    from relgraph.api.search_index import name_query, name_table

    table = name_table(pd.Series(["买买提·艾力", "阿依古丽•吐尔逊"], index=[0, 1], dtype=object))
    for text, owner in (
        ("买买提·艾力", 0),
        ("买买提艾力", 0),
        ("买买提・艾力", 0),
        ("艾力", 0),
        ("maimaiti", 0),
        ("阿依古丽·吐尔逊", 1),
        ("阿依古丽吐尔逊", 1),
    ):
        owners = table.prefix(name_query(text))[0]
        assert owners.tolist() == [owner], text
    assert table.prefix(name_query("买买提·艾力"))[1].tolist() == [0], "a whole name"


def test_a_firm_is_found_under_either_spelling_of_its_legal_form() -> None:
    # 有限责任公司 is the statute's name for what contracts and cards write 有限公司, and a
    # registered region goes in brackets of either width, or none when typed.
    import pandas as pd

    from relgraph.api.search_index import name_query, name_table

    table = name_table(
        pd.Series(["华为技术有限公司", "腾讯科技(深圳)有限责任公司"], index=[0, 1], dtype=object)
    )
    for text, owner in (
        ("华为技术有限责任公司", 0),
        ("华为技术有限公司", 0),
        ("腾讯科技（深圳）有限公司", 1),
        ("腾讯科技深圳有限公司", 1),
        ("腾讯科技【深圳】有限责任公司", 1),
    ):
        owners, rank = table.prefix(name_query(text))
        assert (owners.tolist(), rank.tolist()) == ([owner], [0]), text


def test_a_name_in_traditional_characters_is_found_by_its_simplified_form_and_back() -> None:
    # A record from a Hong Kong or Taiwan document keeps 張偉 where the core system writes
    # 张伟; an analyst types whichever script they have. The pinyin keys stay the record's
    # own reading: 乾 is simplified to 干 character by character, yet 李乾 is still qian.
    # (Names as the index holds them: NFKC, so brackets of either width are ASCII.)
    import pandas as pd

    from relgraph.api.search_index import name_query, name_table

    names = ["張偉", "李乾", "騰訊科技(深圳)有限責任公司", "后羿"]
    table = name_table(pd.Series(names, index=[0, 1, 2, 3], dtype=object))
    for text, owners in (
        ("张伟", [0]),
        ("張偉", [0]),
        ("張伟", [0]),
        ("偉", [0]),
        ("zhangwei", [0]),
        ("李乾", [1]),
        ("liqian", [1]),
        ("腾讯科技深圳有限公司", [2]),
        ("騰訊", [2]),
        ("后羿", [3]),
    ):
        found = table.prefix(name_query(text))[0]
        assert sorted(found.tolist()) == owners, text
    assert table.prefix(name_query("张伟"))[1].tolist() == [0], "a whole name"
    assert table.prefix(name_query("ligan"))[0].tolist() == [], "no reading the name has not"
