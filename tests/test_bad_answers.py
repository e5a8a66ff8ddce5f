"""Answers survive every reader and writer, whatever the student's tools did to them.

* Line breaks of every kind inside an answer (CR, CRLF, LF, vertical tab, form feed, NEL,
  file/group/record separators, U+2028, U+2029, ``<br>`` typed into a cell), in files
  saved with CR, CRLF or LF line endings, round-trip through the explain re-run
  (write_submission), fill_answers, the report command and the checker, and the report
  and the checker agree (the checker never says comparison.md is stale right after the
  report wrote it). So do method cells with spaces around them, and random answers.
* Mac Roman (Excel for Mac) is told from cp1252 and UTF-8 on real sentences; other
  alphabets are refused with the fix.
* Answers typed into comparison.md are merged into the csv (backed up first); an edited
  comparison.md is kept as a backup; nothing typed into either file is lost.
* A file that changes while a run works is not written over (a concurrent writer);
  backups never share a name (two within one second, eight at once).
"""

import hashlib
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers.assignment import submission as submission_module
from helpers.assignment.checker import inspect_submission
from helpers.assignment.cli import report_main
from helpers.assignment.folder import backup_table
from helpers.assignment.markdown_answers import SIGNATURE, answer_key
from helpers.assignment.rules import CSV_FILE, MARKDOWN_FILE, QUALITATIVE_COLUMNS, ReportError
from helpers.assignment.safe_files import UnsafeFileError, decode_text, text_plausibility
from helpers.assignment.table import fill_answers, parse_markdown_table, read_table
from helpers.assignment.table_file import FileChangedError, keep_backup, read_table_file
from tests.test_student_work import ALL, ANSWER, answers_of, make_folder

BREAKS = {
    "cr": "\r",
    "crlf": "\r\n",
    "lf": "\n",
    "vertical_tab": "\v",
    "form_feed": "\f",
    "nel": "\x85",
    "file_separator": "\x1c",
    "record_separator": "\x1e",
    "u2028": "\u2028",
    "u2029": "\u2029",
    "br": "<br>",
    "br_slash_caps": "<BR />",
    "two_lf": "\n\n",
}
FILE_ENDINGS = {"mac_cr": "\r", "windows_crlf": "\r\n", "unix_lf": "\n"}


def spreadsheet_csv(header, rows, sep=",", newline="\r\n", encoding="utf-8", bom=False) -> bytes:
    """A CSV as a spreadsheet saves it: a cell is quoted when it holds the separator, a
    quote, a CR or an LF (whatever the file's own line ending), rows end with ``newline``."""

    def cell(text):
        if any(c in text for c in (sep, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text

    text = "".join(sep.join(map(cell, row)) + newline for row in [header, *rows])
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def type_answers(out: Path, answers: dict, method_cell=None, **style) -> bytes:
    """Fill every row's answers (and optionally rewrite its method cell), saved ``style``."""
    table = read_table_file(out / CSV_FILE)
    for row in table.rows:
        for column, text in answers.items():
            row[table.column(column)] = text
        if method_cell:
            row[table.column("method")] = method_cell(row[table.column("method")])
    data = spreadsheet_csv(table.header, table.rows, **style)
    (out / CSV_FILE).write_bytes(data)
    return data


def stale(out: Path) -> list[str]:
    problems = inspect_submission(out).problems
    assert not [p for p in problems if p.kind == "checker_error"], problems
    return [p.message for p in problems if p.kind == "stale_markdown"]


def checker_answers(out: Path) -> dict:
    """The answers as the checker reads the csv, and as comparison.md shows them."""
    md = parse_markdown_table((out / MARKDOWN_FILE).read_text(encoding="utf-8"))
    return {r["method"]: {c: answer_key(r[c]) for c in QUALITATIVE_COLUMNS} for r in md}


# ------------------------------------------------------------------ line breaks


def break_answers() -> dict[str, dict[str, str]]:
    """{method: {column: text}}: every kind of line break in some cell (inside the text, and
    at its end), the rest mixed."""
    cells = [(m, c) for m in ALL for c in QUALITATIVE_COLUMNS]
    kinds = list(BREAKS.values())
    kinds += ["\r\n\u2028", "<br>\r", "\v\f\x85"][: len(cells) - len(kinds)]
    answers: dict[str, dict[str, str]] = {m: {} for m in ALL}
    for (method, column), brk in zip(cells, kinds, strict=True):
        answers[method][column] = f"low, café{brk}some speckle{brk}"
    return answers


def type_table(out: Path, answers: dict, **style) -> bytes:
    """Fill each row's answers from ``{method: {column: text}}``, saved ``style``."""
    table = read_table_file(out / CSV_FILE)
    for row in table.rows:
        for column, text in answers.get(row[table.column("method")].strip(), {}).items():
            row[table.column(column)] = text
    data = spreadsheet_csv(table.header, table.rows, **style)
    (out / CSV_FILE).write_bytes(data)
    return data


@pytest.mark.parametrize("ending", FILE_ENDINGS.values(), ids=FILE_ENDINGS)
def test_line_breaks_of_every_kind_round_trip_through_every_tool(tmp_path, ending):
    out = tmp_path / "x"
    make_folder(out)
    typed = break_answers()
    before = type_table(out, typed, newline=ending)
    assert answers_of(out) == typed
    make_folder(out, ("grad_cam", "smoothgrad"))  # explain again, fewer methods
    assert answers_of(out) == typed
    data = (out / CSV_FILE).read_bytes()
    assert data.split(b"method,settings,")[1].split(b"\n", 1)[0].split(b"\r")[0].endswith(
        b"would_you_trust_it"
    )
    assert data.startswith(b"method,") and data.index(ending.encode()) == data.index(
        b"would_you_trust_it"
    ) + len("would_you_trust_it")  # the file's line ending is kept
    assert stale(out) == []  # explain's markdown agrees with its csv
    (out / CSV_FILE).write_bytes(before)
    for brk in BREAKS.values():
        typed["grad_cam"]["what_it_highlights"] = f"rim{brk}and saucer"
        fill_answers(out, {"grad_cam": {"what_it_highlights": f"rim{brk}and saucer"}})
        assert answers_of(out) == typed, repr(brk)
        assert stale(out) == [], repr(brk)
    assert report_main([str(out)]) == 0  # the report command, then the checker: agreed
    assert stale(out) == []
    shown = checker_answers(out)
    for method, cells in typed.items():
        for column, text in cells.items():
            assert shown[method][column] == answer_key(text)
    assert shown["grad_cam"]["noise_level"] == "low, café some speckle"


def test_the_issue_case_mac_cr_file_keeps_its_rows(tmp_path):
    """Reported: a CR-only file with a line break in an answer became a row 'some speckle'
    and blanked would_you_trust_it on the next explain."""
    out = tmp_path / "x"
    make_folder(out, ("grad_cam", "vanilla_gradients"))
    typed = {**ANSWER, "noise_level": "low\rsome speckle"}
    type_answers(out, typed, newline="\r")
    make_folder(out, ("grad_cam",))
    assert read_table(out)["method"].tolist() == ["grad_cam", "vanilla_gradients"]
    assert answers_of(out)["grad_cam"]["would_you_trust_it"] == ANSWER["would_you_trust_it"]
    assert answers_of(out)["grad_cam"]["noise_level"] == "low\rsome speckle"


SPACED = {"grad_cam": " grad_cam", "vanilla_gradients": "vanilla_gradients ",
          "smoothgrad": "\tsmoothgrad\t", "integrated_gradients": "\xa0integrated_gradients"}


def test_method_cells_with_spaces_around_them_are_recognised(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    type_answers(out, ANSWER, method_cell=lambda m: SPACED[m])
    assert read_table(out)["method"].tolist() == list(SPACED.values())
    assert report_main([str(out)]) == 0
    assert stale(out) == []  # reported: the checker suggested the report that just ran
    messages = []
    make_folder(out, ("grad_cam", "smoothgrad"), progress=messages.append)
    methods = read_table(out)["method"].tolist()  # the rows run again are rewritten
    assert methods == ["grad_cam", SPACED["vanilla_gradients"], "smoothgrad",
                       SPACED["integrated_gradients"]]  # fmt: skip
    assert {m.strip(): a for m, a in answers_of(out).items()} == dict.fromkeys(ALL, ANSWER)
    assert any("kept your answers" in m and "grad_cam, smoothgrad" in m for m in messages)
    assert stale(out) == []


HOSTILE_PIECES = [
    "a", "é", " ", "  ", ",", ";", "\t", '"', "'", "|", "\\", "\\|", "<br>", "<br/>", "\r",
    "\n", "\r\n", "\v", "\f", "\x85", "\u2028", "\u2029", "\x1c", "*", "`", "#", "-", "=",
    "…", "’", "σ", "\u200b",
]


def random_answer(rng: random.Random) -> str:
    text = "".join(rng.choice(HOSTILE_PIECES) for _ in range(rng.randint(1, 12)))
    return text if answer_key(text) else text + "x"  # a real answer, not only spaces


@pytest.mark.parametrize("seed", range(6))
def test_random_answers_round_trip_and_report_and_checker_agree(tmp_path, seed):
    rng = random.Random(seed)
    out = tmp_path / "x"
    make_folder(out)
    typed = {m: {c: random_answer(rng) for c in QUALITATIVE_COLUMNS} for m in ALL}
    style = rng.choice(
        [dict(), dict(sep=";", encoding="cp1252"), dict(sep="\t", newline="\n"),
         dict(newline="\r", encoding="mac_roman"), dict(bom=True)]
    )  # fmt: skip
    try:
        type_table(out, typed, **style)
    except UnicodeEncodeError:
        type_table(out, typed, bom=True)
    assert answers_of(out) == typed
    assert report_main([str(out)]) == 0
    assert stale(out) == [], typed
    make_folder(out, ("grad_cam",))
    assert answers_of(out) == typed
    assert stale(out) == [], typed
    shown = checker_answers(out)
    assert shown == {m: {c: answer_key(t) for c, t in a.items()} for m, a in typed.items()}


# ------------------------------------------------------------------ Mac Roman

#: Answers as students write them, in the languages cp1252 and Mac Roman are used for.
SENTENCES = [
    "La carte met en évidence la tasse, pas la soucoupe ; c’est assez bruité.",
    "Oui, surtout le bord de la tasse – le fond est ignoré.",
    "Très peu de bruit : des taches nettes, mais à gauche il y a des points épars.",
    "Je n’y crois qu’à moitié : « la crème » est au centre, l’anse est oubliée.",
    "Ça marche. À peu près. Où ? Là.",
    "l’œuvre, cœur, sœur ; naïve façade, déjà vu",
    "ÉLÈVE : OUI, À MOITIÉ",
    "Die Karte zeigt vor allem den Rand der Tasse, nicht die Untertasse.",
    "Ziemlich verrauscht: viele Punkte außerhalb des Objekts, große Flecken.",
    "Würde ich dem vertrauen? Nur teilweise – die Hintergründe stören.",
    "Grüße aus Köln; das Ergebnis ist schön, aber übertrieben. Straße, Maß, Fuß.",
    "niedrig – wenige Störungen; Vertrauen: ja, weil die Tasse hervorgehoben wird",
    "El mapa resalta la taza y el platillo; hay bastante ruido en la esquina.",
    "¿Confiaría en él? Sólo en parte: la región más brillante está fuera del objeto.",
    "señor, niño, año",
    "O mapa destaca a xícara, não o pires; há pouco ruído, são manchas limpas.",
    "médio; não confio: destaca o fundo",
    "La mappa evidenzia la tazza; è abbastanza rumorosa, ma sì, mi fido più o meno.",
    "De kaart benadrukt de rand van het kopje; redelijk ruisarm, één vlek.",
    "Kartan lyfter fram koppens kant; ganska brusig, små prickar överallt.",
    "Hôtel, Ærø, Øresund, Åre; Øystein Ødegård",
    "It highlights the cup’s rim — mostly. “Trust it?” Partly… about 60 °.",
    "Mostly the cup’s handle; I’d say it’s “partly” right — 3/4 of the mass.",
    "Noise: low – clean blobs; the saucer isn’t highlighted.",
    "€ 5 per map, 10 £, 10 µs ± 2 %",
]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "mac_roman"])
def test_mac_roman_cp1252_and_utf8_are_told_apart_on_real_sentences(encoding):
    wrong = []
    for text in SENTENCES:
        data = text.encode(encoding)
        decoded, found = decode_text(data, "comparison.csv")
        if decoded != text:
            wrong.append((found, decoded))
    assert wrong == []


def test_each_wrong_reading_scores_below_the_right_one():
    for text in SENTENCES:
        for encoding, other in (("mac_roman", "cp1252"), ("cp1252", "mac_roman")):
            try:
                misread = text.encode(encoding).decode(other)
            except UnicodeDecodeError:
                continue  # cp1252 cannot even read it: no contest
            if misread != text:  # a tie would go to cp1252
                right, wrong = text_plausibility(text), text_plausibility(misread)
                assert wrong < right or (wrong == right and encoding == "cp1252"), text


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("Карта выделяет чашку; довольно шумно.", "cp1251"),
        ("Карта выделяет чашку; довольно шумно.", "koi8_r"),
        ("コーヒーカップの縁が強調されている", "shift_jis"),
        ("咖啡杯的边缘被突出显示了", "gbk"),
    ],
)
def test_other_alphabets_are_refused_with_the_fix(text, encoding):
    with pytest.raises(UnsafeFileError, match=r'garbled: save it again as "CSV UTF-8"'):
        decode_text(text.encode(encoding), "comparison.csv")


def test_an_excel_for_mac_table_keeps_its_encoding_and_line_endings(tmp_path):
    """Excel for Mac's "CSV" / "CSV (Macintosh)": Mac Roman, classic CR line endings."""
    out = tmp_path / "x"
    make_folder(out)
    typed = {c: SENTENCES[i] + "\nsecond line" for i, c in enumerate(QUALITATIVE_COLUMNS)}
    type_answers(out, typed, sep=";", newline="\r", encoding="mac_roman")
    assert answers_of(out) == dict.fromkeys(ALL, typed)  # no mojibake
    result = inspect_submission(out)
    assert any("mac_roman" in note for note in result.notes), result.notes
    make_folder(out, ("grad_cam",))
    data = (out / CSV_FILE).read_bytes()
    assert data.decode("mac_roman").startswith("method;settings;") and b"\n" in data
    assert data.count(b"\r") == len(ALL) + 1  # one per row: CR endings kept
    assert answers_of(out) == dict.fromkeys(ALL, typed)
    assert report_main([str(out)]) == 0 and stale(out) == []
    messages = []  # a character Mac Roman lacks: saved as UTF-8 with a BOM, and a backup
    make_folder(out, ("grad_cam",), answers={"grad_cam": {"noise_level": "low σ"}},
                progress=messages.append)  # fmt: skip
    assert (out / CSV_FILE).read_bytes().startswith(b"\xef\xbb\xbf")
    assert any("mac_roman cannot hold every character" in m for m in messages), messages
    assert answers_of(out)["smoothgrad"] == typed


# ------------------------------------------------------------------ typed into comparison.md


def type_into_markdown(out: Path, method: str, column: str, text: str) -> bytes:
    """Edit comparison.md by hand: put ``text`` in the row's cell (keeping the rest)."""
    from helpers.assignment.rules import MARKDOWN_HEADERS, TABLE_COLUMNS

    lines = (out / MARKDOWN_FILE).read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(f"| {method} |"))
    cells = lines[at].strip("|").split(" | ")
    cells[list(TABLE_COLUMNS).index(column)] = text
    lines[at] = "| " + " | ".join(c.strip() for c in cells) + " |"
    assert MARKDOWN_HEADERS[column] in "\n".join(lines)
    data = "\n".join(lines).encode("utf-8")
    (out / MARKDOWN_FILE).write_bytes(data)
    return data


def backups(out: Path, suffix: str) -> list[Path]:
    return sorted(out.glob(f"comparison-backup-*{suffix}"))


@pytest.mark.parametrize("tool", ["report", "fill_answers", "explain"])
def test_answers_typed_into_the_markdown_are_merged_into_the_csv(tmp_path, tool):
    out = tmp_path / "x"
    make_folder(out)
    original_csv = (out / CSV_FILE).read_bytes()
    type_into_markdown(out, "grad_cam", "noise_level", "low, a few<br>speckles")
    type_into_markdown(out, "smoothgrad", "on_the_object", "yes \\| mostly")
    messages = []
    if tool == "report":
        assert report_main([str(out)]) == 0
    elif tool == "fill_answers":
        fill_answers(out, progress=messages.append)
    else:
        make_folder(out, ("grad_cam",), progress=messages.append)
    answers = answers_of(out)
    assert answers["grad_cam"]["noise_level"] == "low, a few\nspeckles"
    assert answers["smoothgrad"]["on_the_object"] == "yes | mostly"
    (csv_backup,) = backups(out, ".csv")
    assert csv_backup.read_bytes() == original_csv  # the csv as it was, byte for byte
    assert backups(out, ".md") == []  # nothing in the md that the csv does not now hold
    assert stale(out) == []
    if tool != "report":
        assert any("copied the answers typed into comparison.md" in m for m in messages)
        assert any("grad_cam: noise_level" in m for m in messages)


def test_an_edited_markdown_with_other_answers_is_kept_as_a_backup(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    type_answers(out, ANSWER)
    assert report_main([str(out)]) == 0
    edited = type_into_markdown(out, "grad_cam", "noise_level", "HIGH, typed in the md")
    messages = []
    fill_answers(out, progress=messages.append)
    (md_backup,) = backups(out, ".md")
    assert md_backup.read_bytes() == edited  # what was typed is kept
    assert answers_of(out)["grad_cam"] == ANSWER  # the csv is the source
    assert any("kept as comparison-backup-" in m and "grad_cam: noise_level" in m
               for m in messages), messages  # fmt: skip
    assert stale(out) == []


def test_markdown_rows_the_csv_lacks_and_prose_are_kept(tmp_path):
    out = tmp_path / "x"
    make_folder(out, ("grad_cam", "smoothgrad"))
    type_answers(out, ANSWER)
    assert report_main([str(out)]) == 0
    text = (out / MARKDOWN_FILE).read_text(encoding="utf-8")
    row = next(line for line in text.split("\n") if line.startswith("| smoothgrad |"))
    text = text.replace(row, row + "\n" + row.replace("smoothgrad", "occlusion", 1))
    text = text.replace("**Computed columns.**", "My own conclusion: Grad-CAM wins.\n\n**Co")
    (out / MARKDOWN_FILE).write_text(text, encoding="utf-8")
    messages = []
    fill_answers(out, progress=messages.append)
    (md_backup,) = backups(out, ".md")
    assert "My own conclusion" in md_backup.read_text(encoding="utf-8")
    assert any("answers for occlusion, not in comparison.csv" in m for m in messages)


def test_a_markdown_the_tools_wrote_is_rewritten_without_a_backup(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    assert SIGNATURE.split("table {")[0] in (out / MARKDOWN_FILE).read_text(encoding="utf-8")
    type_answers(out, ANSWER)  # the csv edited after the md was written: the md is stale
    assert report_main([str(out)]) == 0
    type_answers(out, {**ANSWER, "noise_level": "medium after all"})
    assert report_main([str(out)]) == 0
    make_folder(out, ("grad_cam",))
    assert backups(out, ".md") == [] and backups(out, ".csv") == []
    assert answers_of(out)["grad_cam"]["noise_level"] == "medium after all"
    assert stale(out) == []


def test_an_unsigned_markdown_from_an_older_version_needs_no_backup(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    type_answers(out, ANSWER)
    assert report_main([str(out)]) == 0
    text = (out / MARKDOWN_FILE).read_text(encoding="utf-8")
    (out / MARKDOWN_FILE).write_text(text[: text.index("<!--")], encoding="utf-8")
    assert report_main([str(out)]) == 0
    assert backups(out, ".md") == [] and backups(out, ".csv") == []


@pytest.mark.parametrize("kind", ["fifo", "folder", "link_out"])
def test_a_markdown_that_is_not_a_file_is_refused_and_nothing_is_written(tmp_path, kind):
    out = tmp_path / "x"
    make_folder(out)
    (out / MARKDOWN_FILE).unlink()
    if kind == "fifo":
        os.mkfifo(out / MARKDOWN_FILE)
    elif kind == "folder":
        (out / MARKDOWN_FILE).mkdir()
    else:
        (tmp_path / "elsewhere.md").write_text("mine")
        os.symlink(tmp_path / "elsewhere.md", out / MARKDOWN_FILE)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != "x"}
    with pytest.raises(ReportError, match="comparison.md.*move it away and run again"):
        fill_answers(out, {"grad_cam": {"noise_level": "x"}})
    with pytest.raises(ReportError, match="comparison.md"):
        make_folder(out, ("grad_cam",))
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != "x"}
    assert after == before


def test_explain_replace_keeps_answers_typed_into_the_markdown(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    edited = type_into_markdown(out, "smoothgrad", "noise_level", "typed in the md only")
    make_folder(out, ("grad_cam",), replace=True)
    (md_backup,) = backups(out, ".md")
    assert md_backup.read_bytes() == edited


# ------------------------------------------------------------------ a concurrent writer


def save_from_another_process(path: Path, data: bytes) -> None:
    code = f"import sys; open({str(path)!r}, 'wb').write(sys.stdin.buffer.read())"
    subprocess.run([sys.executable, "-c", code], input=data, check=True)


def test_a_table_saved_while_explain_writes_is_not_written_over(tmp_path, monkeypatch):
    out = tmp_path / "x"
    make_folder(out)
    type_answers(out, ANSWER)
    saved = spreadsheet_csv(*_cells_with(out, "noise_level", "saved while explain ran"))
    real = submission_module.grid_figure

    def grid_then_a_save(*args, **kwargs):  # explain has read the csv and is writing
        save_from_another_process(out / CSV_FILE, saved)
        return real(*args, **kwargs)

    monkeypatch.setattr(submission_module, "grid_figure", grid_then_a_save)
    with pytest.raises(FileChangedError, match="comparison.csv changed while this run was"):
        make_folder(out, ("grad_cam",))
    assert (out / CSV_FILE).read_bytes() == saved  # the student's save is kept
    monkeypatch.undo()
    make_folder(out, ("grad_cam",))  # run again: it uses the saved answer
    assert answers_of(out)["grad_cam"]["noise_level"] == "saved while explain ran"


def _cells_with(out, column, text):
    table = read_table_file(out / CSV_FILE)
    for row in table.rows:
        row[table.column(column)] = text
    return table.header, table.rows


@pytest.mark.parametrize(
    "which, step",  # a step fill_answers takes after reading the file, before writing it
    [(CSV_FILE, "check_answers"), (MARKDOWN_FILE, "frame_from_table_file")],
)
def test_fill_answers_never_writes_over_a_file_changed_since_it_was_read(
    tmp_path, monkeypatch, which, step
):
    out = tmp_path / "x"
    make_folder(out)
    from helpers.assignment import table as table_module

    real = getattr(table_module, step)

    def step_then_someone_saves(*args):
        save_from_another_process(out / which, (out / which).read_bytes() + b"\n")
        return real(*args)

    monkeypatch.setattr(table_module, step, step_then_someone_saves)
    with pytest.raises(FileChangedError, match=f"{which} changed while this run was working"):
        fill_answers(out, {"grad_cam": {"noise_level": "mine"}})
    assert (out / which).read_bytes().endswith(b"\n\n")  # the other save is there


def test_same_size_and_time_but_other_bytes_is_a_change(tmp_path):
    """A save within the file system's clock resolution: the hash still sees it."""
    out = tmp_path / "x"
    make_folder(out)
    table = read_table_file(out / CSV_FILE)
    data = (out / CSV_FILE).read_bytes()
    st = os.stat(out / CSV_FILE)
    (out / CSV_FILE).write_bytes(data.replace(b"grad_cam", b"grad_caM", 1))
    os.utime(out / CSV_FILE, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(out / CSV_FILE).st_size == st.st_size
    from helpers.assignment.table_file import write_table_file

    with pytest.raises(FileChangedError):
        write_table_file(out / CSV_FILE, table)


def test_a_real_concurrent_writer_never_loses_its_last_save(tmp_path):
    """A thread saves the table again and again while fill_answers runs again and again:
    every run either writes (over the save it read) or refuses; the last save survives
    unless a later run read it."""
    out = tmp_path / "x"
    make_folder(out)
    header, rows = _cells_with(out, "noise_level", "x")
    stop = threading.Event()
    saves = []

    def writer():
        i = 0
        while not stop.is_set():
            text = f"save {i}"
            data = spreadsheet_csv(*_rows_with(header, rows, text))
            tmp = out / f".writer{i}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, out / CSV_FILE)  # as editors save: a new file renamed over
            saves.append(text)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    refused = written = 0
    try:
        for _ in range(30):
            try:
                fill_answers(out, {"grad_cam": {"on_the_object": "from the notebook"}},
                             progress=None)  # fmt: skip
                written += 1
            except FileChangedError:
                refused += 1
    finally:
        stop.set()
        thread.join()
    final = answers_of(out)["smoothgrad"]["noise_level"]
    assert final == saves[-1] or answers_of(out)["grad_cam"]["on_the_object"] == (
        "from the notebook"
    )
    assert final.startswith("save ")  # never an older table than what was read
    print(f"\n{written} runs wrote, {refused} refused, {len(saves)} saves")


def _rows_with(header, rows, text):
    column = header.index("noise_level")
    return header, [[*row[:column], text, *row[column + 1 :]] for row in rows]


# ------------------------------------------------------------------ backup names


def test_two_table_backups_within_one_second_get_two_names(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    contents = []
    for i in range(3):
        (out / CSV_FILE).write_bytes(f"version {i}\n".encode())
        contents.append(backup_table(out).read_bytes())
    found = backups(out, ".csv")
    assert len(found) == 3 and sorted(p.read_bytes() for p in found) == sorted(contents)


def test_eight_backups_at_once_never_collide(tmp_path):
    source = tmp_path / "comparison.csv"
    source.write_bytes(b"answers\n")
    made, barrier = [], threading.Barrier(8)

    def backup():
        barrier.wait()
        made.append(keep_backup(source, "comparison-backup-", ".csv"))

    threads = [threading.Thread(target=backup) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 8 and all(p.read_bytes() == b"answers\n" for p in made)


def test_two_gradebooks_within_one_second_keep_both_earlier_ones(tmp_path):
    from helpers.assignment.gradebook import grade_all, write_gradebook

    (tmp_path / "subs" / "alice").mkdir(parents=True)
    entries = grade_all(tmp_path / "subs")
    book = tmp_path / "gradebook.csv"
    book.write_text("student,grade\nalice,A (instructor's edit 1)\n")
    first = write_gradebook(entries, book)
    book.write_text("student,grade\nalice,A+ (instructor's edit 2)\n")
    second = write_gradebook(entries, book)
    assert first != second
    assert "edit 1" in first.read_text() and "edit 2" in second.read_text()
    assert "alice" in book.read_text() and "edit" not in book.read_text()


def test_backups_are_byte_identical(tmp_path):
    source = tmp_path / "comparison.csv"
    data = bytes(range(256)) * 5000  # 1.3 MB, any bytes
    source.write_bytes(data)
    copy = keep_backup(source, "comparison-backup-", ".csv")
    assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(data).digest()
