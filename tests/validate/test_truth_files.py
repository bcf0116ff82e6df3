"""Truth files as a bank's risk team exports them: other encodings, spreadsheets, stray
spaces, repeated and contradictory rows, ids the store never loaded.

Each one is either read as the loader would read an input table, or refused on one line that
says what to do; no figure is computed on part of the truth without saying so.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.model import TYPOLOGIES
from relgraph.store.embedded import EmbeddedStore
from relgraph.validate.job import Validation, validate
from relgraph.validate.report import write_report
from relgraph.validate.truth import CHINESE_TYPOLOGIES, TruthError, read_truth
from tests.validate.conftest import customers, make_store

ACCOUNTS = [f"A{i}" for i in range(1, 9)]
TRANSFERS = [("t1", "A1", "A2"), ("t2", "A2", "A3"), ("b1", "A7", "A8")]
RISK = {"A1": 0.9, "A2": 0.9, "A3": 0.9, "A7": 0.4}
LABELS = "account_id,label\nA1,1\nA7,1\nA4,0\n"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return make_store(
        tmp_path / "data",
        customers(("c1", "P1"), ("c2", "P1"), ("c3", "P2")),
        accounts=ACCOUNTS,
        transfers=TRANSFERS,
        alerts=[("R1", "cycle", 0.9, ["t1", "t2"])],
        account_risk=RISK,
    )


def _folder(tmp_path: Path, name: str, data: bytes | str, *, file: str | None = None) -> Path:
    folder = tmp_path / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    (folder / (file or f"{name}.csv")).write_bytes(raw)
    return folder


def _run(data_dir: Path, truth: Path, encoding: str = "utf-8") -> Validation:
    with EmbeddedStore(data_dir, read_only=True) as opened:
        return validate(opened, read_truth(truth, encoding))


def _aml(result: Validation) -> dict[str, object]:
    return next(s for s in result.sections if s.name == "aml").figures


# -- read as the loader reads ---------------------------------------------------------------


def test_a_gbk_export_says_which_encoding_to_give_and_reads_with_it(
    store: Path, tmp_path: Path
) -> None:
    # As Excel saves "CSV" on Chinese Windows: GBK, with the team's remarks in a column.
    text = "account_id,label,备注\nA1,1,经人工复核确认可疑\nA7,1,客户经理上报\nA4,0,已排除\n"
    truth = _folder(tmp_path, "suspicious_accounts", text.encode("gbk"))
    with pytest.raises(TruthError) as caught:
        read_truth(truth)
    # Before: "is not a readable UTF-8 CSV file with a header: 'utf-8' codec can't decode…"
    assert str(caught.value).startswith(f"{truth / 'suspicious_accounts.csv'} line 1, byte ")
    assert "if this file is GBK/GB18030, give --encoding gb18030" in str(caught.value)
    expected = _aml(_run(store, _folder(tmp_path / "ref", "suspicious_accounts", LABELS)))
    assert _aml(_run(store, truth, "gbk")) == expected
    assert expected["suspicious_accounts"] == 2  # A1 and A7, labelled 1


def test_a_folder_may_mix_a_gbk_export_with_utf8_files(store: Path, tmp_path: Path) -> None:
    # Before: --encoding gbk refused the UTF-8 file, no --encoding the GBK one.
    _folder(tmp_path, "persons", "customer_id,person_key,备注\nc1,A,同一人\nc2,A,\nc3,B,\n")
    gbk = "account_id,label,备注\nA1,1,可疑\nA7,1,可疑\nA4,0,已排除\n".encode("gbk")
    result = _run(store, _folder(tmp_path, "suspicious_accounts", gbk), "gbk")
    assert [s.name for s in result.sections] == ["identity", "aml"]
    assert next(s for s in result.sections if s.name == "identity").figures["recall"] == 1.0


def test_bom_crlf_header_spaces_and_case_and_padded_ids_read_as_the_clean_file(
    store: Path, tmp_path: Path
) -> None:
    messy = "\ufeff Account_ID , LABEL \r\n A1 ,1\r\nA7 , 1\r\n\u3000A4\u3000,0\r\n"
    result = _run(store, _folder(tmp_path, "suspicious_accounts", messy))
    clean = _run(store, _folder(tmp_path / "ref", "suspicious_accounts", LABELS))
    assert _aml(result) == _aml(clean)
    assert _aml(result)["missing_accounts"] == 0


def test_padded_customer_ids_are_the_ids_the_loader_trimmed(store: Path, tmp_path: Path) -> None:
    # Before: every padded id was "not in the store" and pairwise recall fell to 0.
    truth = _folder(tmp_path, "persons", "customer_id,person_key\n c1,A\nc2 ,A\n c3 ,B\n")
    identity = next(s for s in _run(store, truth).sections if s.name == "identity").figures
    assert (identity["recall"], identity["precision"], identity["missing_ids"]) == (1.0, 1.0, 0)


# -- refused, on one line that says what to do --------------------------------------------


@pytest.mark.parametrize(
    ("file", "data", "message"),
    [
        (
            "suspicious_accounts.csv",
            b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)),
            "suspicious_accounts.csv is an Excel workbook, not a CSV file: open it and save it "
            'as "CSV UTF-8 (comma delimited)"',
        ),
        (
            "suspicious_accounts.xlsx",
            b"PK\x03\x04",
            'suspicious_accounts.xlsx is a workbook: open it and save it as "CSV UTF-8 (comma '
            'delimited)" named suspicious_accounts.csv',
        ),
        (
            "Persons.CSV",
            "customer_id,person_key\nc1,A\n",
            "Persons.CSV: truth files are read only as persons.csv; rename it",
        ),
        (
            "suspicious_accounts.csv",
            "account_id,label\n",
            "suspicious_accounts.csv has a header but no rows: export it again, or take it out "
            "of the folder to leave what it measures out",
        ),
        (
            "suspicious_accounts.csv",
            "account_id;label\nA1;1\n",
            "suspicious_accounts.csv: the header reads as one column ('account_id;label'): the "
            "values look separated by ';'; save the file comma-separated (CSV)",
        ),
        (
            "suspicious_accounts.csv",
            "account_id,label\nA1,1\n6.22848E+18,1\n",
            "suspicious_accounts.csv line 3: account_id '6.22848E+18' is a number Excel wrote in "
            "scientific notation, its digits lost; export the column as text",
        ),
        (
            "suspicious_accounts.csv",
            "account_id,label\nA1,1\nA7,0\nA1,0\n",
            "suspicious_accounts.csv lines 2, 4: account_id 'A1' has more than one label "
            "('1', '0'); keep the one that is true",
        ),
        (
            "persons.csv",
            "customer_id,person_key\nc1,A\nc2,A\nc1,B\n",
            "persons.csv lines 2, 4: customer_id 'c1' has more than one person_key ('A', 'B'); "
            "keep the one that is true",
        ),
        (
            "laundering.csv",
            "pattern_key,typology,tx_id\nL1,cycle,t1\nL1,fan_in,t2\n",
            "laundering.csv lines 2, 3: pattern_key 'L1' has more than one typology ('cycle', "
            "'fan_in'); keep the one that is true",
        ),
        (
            "laundering.csv",
            "pattern_key,typology,tx_id\nL1,分层转移,t1\n",
            "laundering.csv names unknown typologies 分层转移; use one of layering_chain "
            "(分层/多层/分层转账/链式转账), cycle (循环/回流/循环转账/资金回流), scatter_gather "
            "(先分散后集中/分散集中), fan_in (分散转入/集中转入), fan_out (分散转出), "
            "gather_scatter (先集中后分散/集中分散), bipartite (多对多), stack (多层多对多), "
            "structuring (结构化/拆分/拆分交易/化整为零)",
        ),
        (
            "laundering.csv",
            "pattern_key,typology,tx_id\nL1,layering,t1\n",
            "laundering.csv names unknown typologies layering; use one of layering_chain",
        ),
        (
            "suspicious_accounts.csv",
            "account_id,label\nA1,是\nA4,可疑\n",
            "suspicious_accounts.csv line 3: label must be 1 (confirmed suspicious) or 0 "
            "(confirmed clean), or a word for them (true/t/1/yes/y/是/同意/已同意/允许/已授权 for "
            "1; false/f/0/no/n/否/不同意/未同意/拒绝/不允许/未授权 for 0), not '可疑'",
        ),
        (
            "suspicious_accounts.csv",
            "account_id,label\nA1,2\n",
            "suspicious_accounts.csv line 2: label must be 1 (confirmed suspicious) or 0 "
            "(confirmed clean), or a word for them (",
        ),
        (
            "suspicious_accounts.csv",
            "account_id,label\nA1,是\nA1,0\n",
            "suspicious_accounts.csv lines 2, 3: account_id 'A1' has more than one label "
            "('1', '0'); keep the one that is true",
        ),
    ],
    ids=[
        "workbook-renamed-csv",
        "workbook",
        "misnamed",
        "header-only",
        "semicolons",
        "excel-scientific-id",
        "contradictory-labels",
        "one-row-two-persons",
        "one-pattern-two-typologies",
        "unknown-chinese-typology",
        "typology-abbreviated",
        "label-in-other-words",
        "label-two",
        "word-and-digit-contradict",
    ],
)
def test_unusable_truth_is_refused_saying_what_to_do(
    tmp_path: Path, file: str, data: bytes | str, message: str
) -> None:
    truth = _folder(tmp_path, "", data, file=file)
    with pytest.raises(TruthError) as caught:
        read_truth(truth)
    assert str(caught.value).startswith(f"{truth}/")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# -- every row used or reported --------------------------------------------------------------


def test_repeated_rows_count_once_and_are_reported(store: Path, tmp_path: Path) -> None:
    truth = _folder(tmp_path, "persons", "customer_id,person_key\nc1,A\nc2,A\nc1,A\nc1,A\nc3,B\n")
    result = _run(store, truth)
    identity = next(s for s in result.sections if s.name == "identity")
    # Before: c1 three times made pairs of c1 with itself, found and true, inflating both.
    assert (identity.figures["truth_pairs"], identity.figures["rows"]) == (1, 3)
    assert identity.notes == [
        "persons.csv: 2 of its 5 rows repeat an earlier row and were counted once."
    ]
    assert result.about["truth_rows"] == {"persons": {"rows": 5, "duplicates": 2}}
    write_report(result, tmp_path / "report")
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "| persons.csv | 5 | 2 |" in report


def test_a_truth_file_given_for_the_folder_says_to_give_the_folder(tmp_path: Path) -> None:
    truth = _folder(tmp_path, "persons", "customer_id,person_key\nc1,A\n")
    with pytest.raises(TruthError, match=r"persons\.csv is a file: give the folder holding it"):
        read_truth(truth / "persons.csv")


def test_typologies_read_whatever_their_case(store: Path, tmp_path: Path) -> None:
    upper = "pattern_key,typology,tx_id\nL1, CYCLE ,t1\nL1,Cycle,t2\n"
    assert _aml(_run(store, _folder(tmp_path, "laundering", upper)))["recall_by_typology"] == {
        "cycle": {"patterns": 1, "found": 1, "recall": 1.0}
    }


@pytest.mark.parametrize(
    "labels",
    [("是", "是", "否"), ("Y", "y", "N"), ("yes", "YES", "no"), ("１", "１", "０"),
     ("True", "t", "false"), ("同意", "已授权", "拒绝")],
    ids=["shi-fou", "y-n", "yes-no", "full-width-digits", "true-false", "consent-words"],
)  # fmt: skip
def test_labels_in_the_loaders_words_for_yes_and_no_read_as_1_and_0(
    store: Path, tmp_path: Path, labels: tuple[str, str, str]
) -> None:
    # Before: anything but 1 and 0 was refused, while the loader read the same columns.
    a1, a7, a4 = labels
    words = f"account_id,label\nA1,{a1}\nA7,{a7}\nA4,{a4}\n"
    clean = _run(store, _folder(tmp_path / "ref", "suspicious_accounts", LABELS))
    assert _aml(_run(store, _folder(tmp_path, "suspicious_accounts", words))) == _aml(clean)


def test_a_label_written_once_as_a_word_and_once_as_a_digit_is_one_row(
    store: Path, tmp_path: Path
) -> None:
    text = "account_id,label\nA1,是\nA1,1\nA7,1\nA4,否\n"
    result = _run(store, _folder(tmp_path, "suspicious_accounts", text))
    assert result.about["truth_rows"] == {"suspicious_accounts": {"rows": 4, "duplicates": 1}}
    clean = _run(store, _folder(tmp_path / "ref", "suspicious_accounts", LABELS))
    assert _aml(result) == _aml(clean)


@pytest.mark.parametrize(
    ("name", "typology"),
    [(name, t) for t, names in CHINESE_TYPOLOGIES.items() for name in names],
)
def test_every_documented_chinese_typology_name_reads_as_its_typology(
    tmp_path: Path, name: str, typology: str
) -> None:
    truth = _folder(tmp_path, "laundering", f"pattern_key,typology,tx_id\nL1, {name} ,t1\n")
    laundering = read_truth(truth).laundering
    assert laundering is not None
    assert laundering["typology"].tolist() == [typology]


def test_every_typology_has_a_chinese_name_and_no_name_two_typologies() -> None:
    assert list(CHINESE_TYPOLOGIES) == list(TYPOLOGIES)
    names = [n for names in CHINESE_TYPOLOGIES.values() for n in names]
    assert len(names) == len(set(names))


def test_a_pattern_written_in_chinese_is_measured_as_its_typology(
    store: Path, tmp_path: Path
) -> None:
    # One pattern's rows in Chinese and in English are one typology, not a contradiction.
    text = "pattern_key,typology,tx_id\nL1,循环,t1\nL1,cycle,t2\n"
    assert _aml(_run(store, _folder(tmp_path, "laundering", text)))["recall_by_typology"] == {
        "cycle": {"patterns": 1, "found": 1, "recall": 1.0}
    }


def test_ids_not_in_the_store_are_counted_in_the_summary_and_listed(
    store: Path, tmp_path: Path
) -> None:
    _folder(tmp_path, "laundering", "pattern_key,typology,tx_id\nL1,cycle,t1\nL1,cycle,t-gone\n")
    truth = _folder(tmp_path, "suspicious_accounts", "account_id,label\nA1,1\nX1,1\nY1,0\nY2,0\n")
    section = next(s for s in _run(store, truth).sections if s.name == "aml")
    assert section.headline["planted transfers not in the store (misses)"] == 1
    assert section.headline["suspicious accounts not in the store (misses)"] == 1
    # Before: a clean account the store does not hold was dropped without a word.
    assert section.headline["clean accounts not in the store (not ranked)"] == 2
    assert section.figures["missing_clean_accounts_listed"] == ["Y1", "Y2"]
    captions = [caption for caption, _ in section.tables]
    assert (
        "Planted transfers not in the store (first 1 of 1; never in an alert: they count "
        "against their patterns)" in captions
    )
    assert "Labelled accounts not in the store (first 2 of 2; labelled 0, not ranked)" in captions


# -- the command --------------------------------------------------------------------------

runner = CliRunner()


def test_the_command_takes_an_encoding_and_refuses_a_wrong_one_on_one_line(
    store: Path, tmp_path: Path
) -> None:
    text = "account_id,label,备注\nA1,1,可疑\nA1,1,可疑\n".encode("gbk")
    truth = _folder(tmp_path, "suspicious_accounts", text)
    (truth / "suspicious accounts.csv").write_text("account_id,label\n", encoding="utf-8")
    (truth / "notes.txt").write_text("案件说明\n", encoding="utf-8")
    args = ["validate", "--truth", str(truth), "--data-dir", str(store), "--out"]
    wrong = runner.invoke(app, [*args, str(tmp_path / "r1")])
    assert wrong.exit_code == 2
    assert "--encoding gb18030" in " ".join(wrong.output.split())
    assert "Traceback" not in wrong.output
    right = runner.invoke(app, [*args, str(tmp_path / "r2"), "--encoding", "gbk"])
    assert right.exit_code == 0, right.output
    flat = " ".join(right.output.split())
    assert "note: not truth files, not read: notes.txt, suspicious accounts.csv" in flat
    assert (
        "note: aml: suspicious_accounts.csv: 1 of its 2 rows repeat an earlier row and were "
        "counted once." in flat
    )


def test_a_line_named_is_the_line_in_the_file(tmp_path: Path) -> None:
    # Before: rows were numbered as if the file had no blank line and no quoted line break.
    text = 'account_id,label\n\nA1,1\n"A2\nA3",1\n\nA4,x\n'
    with pytest.raises(TruthError, match=r"suspicious_accounts\.csv line 7: label must be"):
        read_truth(_folder(tmp_path, "suspicious_accounts", text))


def test_rows_without_any_value_are_no_rows(store: Path, tmp_path: Path) -> None:
    # Excel writes ",," for rows once formatted; they are not a truth row missing its values.
    truth = _folder(tmp_path, "suspicious_accounts", LABELS + ",\n,\n")
    clean = _run(store, _folder(tmp_path / "ref", "suspicious_accounts", LABELS))
    assert _aml(_run(store, truth)) == _aml(clean)


def test_ids_written_in_full_width_or_text_forced_are_reported_as_such(
    store: Path, tmp_path: Path
) -> None:
    # The loader keeps ids as written, so Ａ１ is not A1; the report says why they missed.
    text = 'account_id,label\nＡ１,1\n"=""A7""",1\n\'A2,1\nZ9,1\n'
    section = next(
        s for s in _run(store, _folder(tmp_path, "suspicious_accounts", text)).sections
        if s.name == "aml"
    )  # fmt: skip
    assert section.figures["missing_accounts"] == 4
    assert section.notes[-1] == (
        "3 of the 4 ids not in the store are stored ids written otherwise (\"'A2\" is 'A2'): "
        "full-width characters or a spreadsheet's text forcing (=\"…\", a leading '); the "
        "loader keeps ids as written, so export them as plain half-width text."
    )


def test_a_controller_the_store_does_not_hold_is_counted(tmp_path: Path) -> None:
    # Before: the group simply failed, with no count of controllers not held.
    data = make_store(tmp_path / "data", customers(("c1", "P1")))
    with EmbeddedStore(data) as opened:
        opened.replace_results(
            {
                "enterprise_control": pa.table({"enterprise_id": ["E1"], "group_id": ["G1"]}),
                "corporate_groups": pa.table({"group_id": ["G1"], "controller_id": ["P1"]}),
            }
        )
    text = "enterprise_id,group_key,controller_id\nE1,K1,c1\nE1 ,K1,c1\nE2,K2,c-gone\n"
    truth = _folder(tmp_path, "groups", text)
    section = next(s for s in _run(data, truth).sections if s.name == "groups")
    assert section.headline["controllers not in the store"] == 1
    assert section.figures["missing_controllers_listed"] == ["c-gone"]
    assert section.figures["controller_found"] == 0.5


def test_a_report_folder_that_cannot_be_written_is_one_line(store: Path, tmp_path: Path) -> None:
    # Before: a traceback from mkdir, after the whole validation had run.
    truth = _folder(tmp_path, "suspicious_accounts", LABELS)
    (tmp_path / "taken").write_text("", encoding="utf-8")
    args = ["validate", "--truth", str(truth), "--data-dir", str(store), "--out"]
    taken = runner.invoke(app, [*args, str(tmp_path / "taken")])
    assert taken.exit_code == 2
    assert "is a file: give a folder for report.md" in " ".join(taken.output.split())
    # Under a file: no folder can be made there, whoever runs it (root included).
    below = runner.invoke(app, [*args, str(tmp_path / "taken" / "report")])
    assert below.exit_code == 2
    assert "cannot write the report to" in " ".join(below.output.split())
    assert "Traceback" not in taken.output + below.output
