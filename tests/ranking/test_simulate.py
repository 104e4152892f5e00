import csv
import gzip
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

KEYS = {
    "n_records", "n_included", "screened_at_each_include", "recall_at_10pct", "wss_95",
    "wss_100", "n_screened_to_all", "seconds_total", "seconds_per_retrain", "stopping",
}


def write_rows(path, header, n=120, n_inc=10, opener=open):
    rng = np.random.default_rng(0)
    included = set(rng.choice(n, n_inc, replace=False).tolist())
    with opener(path, "wt", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(n):
            words = " ".join(rng.choice([f"w{j}" for j in range(80)], 10))
            inc = i in included
            row = {
                "title": f"{'triptan trial' if inc else 'cohort'} {words}",
                "abstract": "" if i % 7 == 0 else words,  # empty cells become NaN, then ""
                "keywords": "Humans; Migraine" if inc else "Humans",
                "label_included": int(inc),
            }
            w.writerow([row.get(h, "") for h in header])
    return sorted(included)


def test_command_writes_the_result_json(tmp_path):
    path = tmp_path / "set.csv"
    write_rows(path, ["title", "abstract", "keywords", "label_included"])
    out = tmp_path / "result.json"

    call_command("simulate_screening", str(path), "--label-column", "label_included",
                 "--seed", "2", "--out", str(out))

    result = json.loads(out.read_text())
    assert KEYS <= set(result)
    assert result["n_records"] == 120
    assert result["n_included"] == 10
    assert len(result["screened_at_each_include"]) == 10
    assert result["screened_at_each_include"][-1] == result["n_screened_to_all"]
    assert result["wss_95"] > 0.5


def test_command_same_seed_same_order(tmp_path):
    path = tmp_path / "set.csv"
    write_rows(path, ["title", "abstract", "label_included"])
    outs = [tmp_path / "a.json", tmp_path / "b.json"]

    for out in outs:
        call_command("simulate_screening", str(path), "--seed", "5", "--out", str(out))

    a, b = (json.loads(o.read_text()) for o in outs)
    assert a["screened_at_each_include"] == b["screened_at_each_include"]


def test_command_reads_csv_gz(tmp_path):
    path = tmp_path / "set.csv.gz"
    write_rows(path, ["title", "abstract", "label_included"], opener=gzip.open)
    out = tmp_path / "result.json"

    call_command("simulate_screening", str(path), "--out", str(out),
                 "--prior-included", "2", "--prior-excluded", "3")

    result = json.loads(out.read_text())
    assert result["n_records"] == 120
    assert result["n_prior_included"] == 2
    assert result["screened_at_each_include"][:2] == [1, 2]


def test_command_missing_label_column_names_file_and_column(tmp_path):
    path = tmp_path / "set.csv"
    write_rows(path, ["title", "abstract", "label_included"])

    with pytest.raises(CommandError, match=r"set\.csv: no label column 'included'"):
        call_command("simulate_screening", str(path), "--label-column", "included",
                     "--out", str(tmp_path / "r.json"))


def test_command_without_title_or_abstract_names_the_columns(tmp_path):
    path = tmp_path / "set.csv"
    write_rows(path, ["keywords", "label_included"])

    with pytest.raises(CommandError, match=r"set\.csv: no 'title' or 'abstract' column"):
        call_command("simulate_screening", str(path), "--out", str(tmp_path / "r.json"))


def test_command_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"nope\.csv: no such file"):
        call_command("simulate_screening", str(tmp_path / "nope.csv"),
                     "--out", str(tmp_path / "r.json"))


def test_command_bad_label_value_names_column_and_line(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("title,label_included\nA trial,1\nA cohort,maybe\n")

    message = r"'label_included' must hold 0 or 1 \(line 3: 'maybe'\)"
    with pytest.raises(CommandError, match=message):
        call_command("simulate_screening", str(path), "--out", str(tmp_path / "r.json"))
