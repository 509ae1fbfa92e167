"""Reference tables are data files, loaded through importlib.resources."""

from __future__ import annotations

from importlib.resources import files

from hj212 import codes


def test_data_files_are_package_resources() -> None:
    names = {p.name for p in (files("hj212") / "data").iterdir()}
    assert {
        "pollutants.csv",
        "legacy_2005.csv",
        "cn.json",
        "st.json",
        "replies.json",
        "data_flags.json",
        "icodes.json",
        "fields.json",
        "totalcap.json",
    } <= names
    assert (files("hj212") / "py.typed").is_file()


def test_pollutants_with_units_and_legacy_codes() -> None:
    cod = codes.pollutant("w01018")
    assert (
        cod is not None
        and cod.name_zh == "化学需氧量"
        and cod.conc_unit == "mg/L"
        and cod.amount_unit == "kg"
    )
    assert cod.legacy_code == "011"
    assert codes.pollutant("011") == cod
    assert codes.map_legacy_code("B01") == "w00000"
    assert codes.map_legacy_code("02") == "a21026"
    assert codes.map_legacy_code("S01") == "a19001"
    assert codes.map_legacy_code("w01018") is None
    assert "06" in codes.legacy_only_codes()


def test_command_system_and_reply_tables() -> None:
    entry = codes.command("2011")
    assert entry is not None and entry.kind == "upload" and entry.origin == "2017"
    assert codes.command("9015") is not None and codes.command("9015").verify  # type: ignore[union-attr]
    for cn in (
        "1000",
        "1011",
        "1012",
        "1013",
        "1061",
        "1062",
        "1063",
        "1064",
        "1072",
        "2011",
        "2012",
        "2021",
        "2022",
        "2031",
        "2041",
        "2051",
        "2061",
        "2081",
        "9011",
        "9012",
        "9013",
        "9014",
        *(str(n) for n in range(3011, 3022)),
    ):
        assert codes.command(cn) is not None, cn
    system = codes.system("31")
    assert system is not None and system.name_zh == "大气环境污染源"
    assert codes.qn_rtn_meaning("9") == "CRC error"
    assert codes.exe_rtn_meaning("100") == "no data"
    assert codes.data_flag_meaning("T") == "above measuring-range upper limit"
    assert codes.run_state_meaning("5") == "blow-back"


def test_info_codes() -> None:
    state = codes.info_code("i12001")
    assert state is not None and state.values["3"] == "calibration"
    furnace = codes.info_code("i33325")
    assert furnace is not None and "middle" in furnace.name_en
    assert codes.info_code("i99999") is None


def test_field_dictionary() -> None:
    assert (
        "PNUM" in codes.header_keys()
        and "DataTime" in codes.plain_keys()
        and "ZsRtd" in codes.known_suffixes()
    )
    assert codes.field_aliases()["ctime"] == "Ctime"
    assert codes.field_aliases()["Polld"] == "PolId"
    assert (
        codes.subject_is_known("e20101")
        and codes.subject_is_known("SB1")
        and not codes.subject_is_known("zz")
    )
