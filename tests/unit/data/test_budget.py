"""Know the budget: the limit comes from LIVECHAT_MEMORY_LIMIT_MB (else the cgroup), and a
file whose estimated load would not fit what is free is refused in plain words."""

from __future__ import annotations

import io

import pytest
import xlsxwriter

from livechat.data.budget import (
    LOAD_PEAK_PER_FRAME,
    MemoryBudgetError,
    check_fits,
    estimate_load_bytes,
    memory_limit_bytes,
)
from livechat.data.load import DataLoadError

MB = 2**20


def test_the_limit_is_read_from_the_environment_in_mb() -> None:
    assert memory_limit_bytes({"LIVECHAT_MEMORY_LIMIT_MB": "600"}) == 600 * MB
    assert memory_limit_bytes({"LIVECHAT_MEMORY_LIMIT_MB": "1.5"}) == int(1.5 * MB)


@pytest.mark.parametrize("raw", ["lots", "-5", "0"])
def test_a_limit_that_is_not_a_positive_number_is_ignored(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("livechat.data.budget._cgroup_limit", lambda: None)
    assert memory_limit_bytes({"LIVECHAT_MEMORY_LIMIT_MB": raw}) is None


def test_without_the_variable_the_cgroup_limit_applies(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    v2 = tmp_path / "memory.max"
    monkeypatch.setattr("livechat.data.budget._CGROUP_V2", v2)
    monkeypatch.setattr("livechat.data.budget._CGROUP_V1", tmp_path / "missing")
    v2.write_text("734003200\n")
    assert memory_limit_bytes({}) == 734003200
    v2.write_text("max\n")
    assert memory_limit_bytes({}) is None


def test_a_file_that_would_not_fit_is_refused_in_plain_words() -> None:
    data = b"a,b\n" + b"1,2\n" * 250_000  # 1 MB of CSV
    needed = estimate_load_bytes(data, "big.csv")
    assert needed >= len(data) * LOAD_PEAK_PER_FRAME
    with pytest.raises(MemoryBudgetError) as caught:
        check_fits(data, "uploads/big.csv", in_use=100 * MB, limit=100 * MB + needed // 2)
    message = str(caught.value)
    assert message.startswith("big.csv needs about ") and "this server has" in message
    assert "free" in message and "try a smaller extract" in message
    assert isinstance(caught.value, DataLoadError)  # the Data page shows it like any load failure
    assert caught.value.needed == needed


def test_a_file_that_fits_or_no_limit_is_let_through() -> None:
    data = b"a,b\n1,2\n"
    check_fits(data, "small.csv", in_use=100 * MB, limit=200 * MB)
    check_fits(data * 100_000, "big.csv", in_use=10**12, limit=None)


def test_an_xlsx_is_weighed_by_its_declared_cells_not_its_zipped_bytes() -> None:
    def workbook(rows: int) -> bytes:
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["a", "b", "c"])
        sheet.write(rows, 2, 1)  # declares A1:C<rows+1>
        book.close()
        return out.getvalue()

    small, large = workbook(10), workbook(1_000_000)
    assert abs(len(small) - len(large)) < 1_000  # nearly the same zip
    assert estimate_load_bytes(large, "x.xlsx") > 1_000 * estimate_load_bytes(small, "x.xlsx")
