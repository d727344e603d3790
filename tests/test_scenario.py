"""Scenario files: every key of the specification accepted, every bad input one clear line."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest
import spiceypy as sp

from conftest import BASE_TOML
from helpers.spicekit import LoadedKernels, write_lsk, write_orbiter_spk
from marsrelay.errors import InputError, ScenarioError
from marsrelay.geometry.orbits import J2Orbit, write_oem
from marsrelay.scenario import Scenario, builtin_scenario_names, load_scenario


def _edit(old: str, new: str):
    def apply(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return apply


def _append(extra: str):
    return lambda text: text + extra


# (id, edit of BASE_TOML, field path in the message, words the message must contain)
BAD_CASES = [
    ("unknown-key-in-orbiter-1",
     _edit('name = "MRO"\n[orbiter.elements]', 'name = "MRO"\n[orbiter.elemnts]'),
     "orbiter[1].elemnts", ["unknown key 'elemnts'", "did you mean 'elements'", "allowed: keys"]),
    ("unknown-key-in-scenario", _edit('start = "2030', 'strat = "2030'),
     "scenario.strat", ["unknown key 'strat'", "did you mean 'start'"]),
    ("unknown-key-in-elements", _edit("i_deg = 74.0", "inc_deg = 74.0"),
     "orbiter[0].elements.inc_deg", ["did you mean 'i_deg'"]),
    ("unknown-top-level-table", _append('\n[orbitr]\nname = "X"\n'),
     "orbitr", ["unknown key 'orbitr'", "did you mean 'orbiter'"]),
    ("unknown-key-in-lander", _edit("height_km = -3.0", "hieght_km = -3.0"),
     "lander[0].hieght_km", ["did you mean 'height_km'"]),
    ("unknown-key-in-station", _edit("dish_m = 70.0", "dish_diameter_m = 70.0"),
     "station[0].dish_diameter_m", ["did you mean 'dish_m'"]),
    ("unknown-key-in-links", _append("\n[links]\nnot_a_real_setting_xyz = 1\n"),
     "links.not_a_real_setting_xyz", ["unknown key 'not_a_real_setting_xyz'"]),
    ("lat-above-90", _edit("lat_deg = 18.275", "lat_deg = 95.0"),
     "lander[0].lat_deg", ["95.0", "[-90, 90]"]),
    ("station-lat-below-minus-90", _edit("lat_deg = -35.4040", "lat_deg = -91.0"),
     "station[0].lat_deg", ["[-90, 90]"]),
    ("lon-360", _edit("lon_east_deg = 335.368", "lon_east_deg = 360.0"),
     "lander[0].lon_east_deg", ["[0, 360) or [-180, 180)"]),
    ("lon-below-minus-180", _edit("lon_east_deg = 335.368", "lon_east_deg = -180.5"),
     "lander[0].lon_east_deg", ["[0, 360) or [-180, 180)"]),
    ("height-above-25-km", _edit("height_km = -3.0", "height_km = 30.0"),
     "lander[0].height_km", ["[-10, 25]"]),
    ("height-below-minus-10-km", _edit("height_km = -3.0", "height_km = -11.0"),
     "lander[0].height_km", ["[-10, 25]"]),
    ("lander-mask-90", _edit("elevation_mask_deg = 10.0", "elevation_mask_deg = 90.0"),
     "lander[0].elevation_mask_deg", ["[0, 90)"]),
    ("station-mask-negative", _edit("dish_m = 70.0", "dish_m = 70.0\nelevation_mask_deg = -1"),
     "station[0].elevation_mask_deg", ["[0, 90)"]),
    ("eccentricity-1", _edit("e = 0.0\n", "e = 1.0\n"),
     "orbiter[0].elements.e", ["0 <= e < 1"]),
    ("eccentricity-negative", _edit("e = 0.0\n", "e = -0.1\n"),
     "orbiter[0].elements.e", ["0 <= e < 1"]),
    ("periapsis-inside-mars", _edit("a_km = 3796.19\ne = 0.0", "a_km = 3796.19\ne = 0.2"),
     "orbiter[0].elements", ["periapsis", "a_km * (1 - e) > 3396.19 km"]),
    ("inclination-above-180", _edit("i_deg = 74.0", "i_deg = 181.0"),
     "orbiter[0].elements.i_deg", ["[0, 180]"]),
    ("end-before-start", _edit('end = "2030-06-02T00:00:00Z"', 'end = "2030-05-31T00:00:00Z"'),
     "scenario.end", ["not after start", "a time after scenario.start"]),
    ("end-equals-start", _edit('end = "2030-06-02T00:00:00Z"', 'end = "2030-06-01T00:00:00Z"'),
     "scenario.end", ["not after start"]),
    ("name-with-capitals-and-space", _edit('name = "test-case"', 'name = "Test Case"'),
     "scenario.name", ["'Test Case'", "[a-z0-9-]+"]),
    ("duplicate-node-name", _edit('name = "Rosalind Franklin"', 'name = "tgo"'),
     "lander[0].name", ["'tgo' is already used by orbiter[0]", "unique"]),
    ("elements-and-spk", _edit("i_deg = 74.0", 'i_deg = 74.0\n[orbiter.spk]\npath = "x.bsp"\n'
                                               "naif_id = -143"),
     "orbiter[0]", ["'TGO' gives elements and spk", "exactly one of"]),
    ("no-trajectory", _edit('agency = "ESA"\n[orbiter.elements]\na_km = 3796.19\ne = 0.0\n'
                            "i_deg = 74.0\n", 'agency = "ESA"\n'),
     "orbiter[0]", ["gives none of elements, spk, oem", "exactly one of"]),
    ("start-before-1900", _edit('start = "2030-06-01T00:00:00Z"', 'start = "1850-01-01T00:00:00Z"'),
     "scenario.start", ["outside the DE421 ephemeris", "1900", "2050"]),
    ("end-after-2050", _edit('end = "2030-06-02T00:00:00Z"', 'end = "2060-01-01T00:00:00Z"'),
     "scenario.end", ["outside the DE421 ephemeris", "2051-01-01"]),
    ("epoch-after-2050", _edit("i_deg = 74.0", 'i_deg = 74.0\nepoch = "2070-01-01T00:00:00Z"'),
     "orbiter[0].elements.epoch", ["outside the DE421 ephemeris"]),
    ("conjunction-negative", _edit('end = "2030-06-02T00:00:00Z"',
                                   'end = "2030-06-02T00:00:00Z"\nconjunction_sep_deg = -1.0'),
     "scenario.conjunction_sep_deg", ["-1.0", "[0, 180)"]),
    ("grazing-height-negative", _edit('end = "2030-06-02T00:00:00Z"',
                                      'end = "2030-06-02T00:00:00Z"\ngrazing_height_km = -5'),
     "scenario.grazing_height_km", ["greater than or equal to 0", "[0, 1000]"]),
    ("max-range-zero", _edit('agency = "ESA"', 'agency = "ESA"\nmax_range_km = 0.0'),
     "orbiter[0].max_range_km", ["km, > 0"]),
    ("missing-start", _edit('start = "2030-06-01T00:00:00Z"\n', ""),
     "scenario.start", ["required key is missing", "UTC ISO 8601"]),
    ("missing-scenario-table", lambda t: t.replace("[scenario]\n", "[scenario_]\n"),
     "scenario_", ["unknown key", "did you mean 'scenario'"]),
    ("number-as-string", _edit("lat_deg = 18.275", 'lat_deg = "18.275"'),
     "lander[0].lat_deg", ["'18.275'", "valid number"]),
    ("boolean-as-number", _edit("a_km = 3796.19", "a_km = true"),
     "orbiter[0].elements.a_km", ["got true:", "valid number"]),
    ("infinite-number", _edit("a_km = 3796.19", "a_km = inf"),
     "orbiter[0].elements.a_km", ["finite"]),
    ("bad-utc-month-13", _edit('start = "2030-06-01T00:00:00Z"', 'start = "2030-13-01T00:00:00Z"'),
     "scenario.start", ["not a valid UTC time", "UTC ISO 8601"]),
    ("bad-utc-text", _edit('start = "2030-06-01T00:00:00Z"', 'start = "yesterday"'),
     "scenario.start", ["'yesterday' is not a valid UTC time"]),
    ("rotation-model-unknown", _edit('end = "2030-06-02T00:00:00Z"',
                                     'end = "2030-06-02T00:00:00Z"\nrotation_model = "iau2000"'),
     "scenario.rotation_model", ["'iau2000'", "'iau2009' or 'iau2015'"]),
    ("blackout-end-before-start",
     _edit('agency = "ESA"', 'agency = "ESA"\nblackouts = [["2030-06-01T06:00:00Z", '
                             '"2030-06-01T05:00:00Z"]]'),
     "orbiter[0].blackouts[0]", ["window end", "end after start"]),
    ("blackout-not-a-pair",
     _edit('agency = "ESA"', 'agency = "ESA"\nblackouts = [["2030-06-01T06:00:00Z"]]'),
     "orbiter[0].blackouts[0]", ["at least 2 items"]),
    ("empty-node-name", _edit('name = "DSS-43"', 'name = ""'),
     "station[0].name", ["1 to 64 characters"]),
    ("dish-zero", _edit("dish_m = 70.0", "dish_m = 0.0"),
     "station[0].dish_m", ["m, > 0"]),
    ("spk-file-missing",
     _edit('agency = "ESA"\n[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n',
           'agency = "ESA"\n[orbiter.spk]\npath = "kernels/tgo.bsp"\nnaif_id = -143\n'),
     "orbiter[0].spk.path", ["SPK file not found", "kernels/tgo.bsp",
                             "relative paths start at the scenario's folder"]),
]


@pytest.mark.parametrize(("edit", "field", "words"), [c[1:] for c in BAD_CASES],
                         ids=[c[0] for c in BAD_CASES])
def test_bad_input_is_one_line_naming_file_field_and_allowed(
    write_scenario, edit, field, words
) -> None:
    path = write_scenario(edit(BASE_TOML))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    text = str(err)
    assert isinstance(err, InputError) and isinstance(err, ValueError)
    assert "\n" not in text
    assert text.startswith(f"{path}: {field}: "), text
    assert err.file == str(path) and err.field == field
    assert "(allowed: " in text, text
    for word in words:
        assert word in text, (word, text)


def test_missing_scenario_table_is_named(write_scenario) -> None:
    text = BASE_TOML.split("[[orbiter]]", 1)[1]
    path = write_scenario("[[orbiter]]" + text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f"{path}: scenario: required key is missing "
        "(allowed: a [scenario] table with name, start and end)"
    )


def test_toml_syntax_error_names_the_line(write_scenario) -> None:
    path = write_scenario(BASE_TOML.replace("i_deg = 74.0", "i_deg 74.0"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    line = BASE_TOML.splitlines().index("i_deg = 74.0") + 1
    assert text.startswith(f"{path}: line {line}: TOML syntax error"), text
    assert "\n" not in text and "toml.io" in text


def test_single_table_mixed_with_array_of_tables_is_a_syntax_error(write_scenario) -> None:
    path = write_scenario(BASE_TOML.replace("[[orbiter]]", "[orbiter]", 1))
    with pytest.raises(ScenarioError, match=r"TOML syntax error"):
        load_scenario(path)


def test_orbiter_given_as_a_table_asks_for_an_array_of_tables(write_scenario) -> None:
    text = BASE_TOML.split("[[orbiter]]")[0] + '[orbiter]\nname = "X"\n'
    path = write_scenario(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: orbiter: ")
    assert "[[orbiter]]" in str(info.value)


def test_unknown_builtin_name_suggests_the_nearest() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("exomars-2031")
    text = str(info.value)
    assert "did you mean 'exomars-2030'?" in text and "\n" not in text
    assert "curiosity-insight-tgo-2019" in text  # the allowed list names every built-in


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError, match="no such scenario file") as info:
        load_scenario(str(missing))
    assert str(info.value).startswith(str(missing))


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE_TOML.replace("two orbiters", "deux orbiteurs \xe9").encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(path)


# ----------------------------------------------------------------------------------------------
# Accepted input
# ----------------------------------------------------------------------------------------------

# The example of the scenario specification, key for key (the contract every version accepts).
SPEC_EXAMPLE = """
[scenario]
name = "exomars-2030"                 # required, [a-z0-9-]+
description = "free text"             # optional
start = "2030-06-01T00:00:00Z"         # required, UTC ISO 8601
end   = "2030-07-01T00:00:00Z"         # required, after start
rotation_model = "iau2009"            # optional: iau2009 (default) | iau2015
conjunction_sep_deg = 2.0             # optional: Earth links blocked below this SEP angle

[[orbiter]]
name = "TGO"                          # required, unique among all nodes
agency = "ESA"                        # optional, free text
max_range_km = 5000.0                 # optional: proximity links longer than this do not count
[orbiter.elements]                    # one of: elements | spk | oem
epoch = "2030-06-01T00:00:00Z"
a_km = 3796.19                        # mean semi-major axis
e = 0.0                               # 0 <= e < 1; periapsis must clear the surface
i_deg = 74.0
raan_deg = 0.0                        # in MARS_EQ_J2000 (conventions.md)
argp_deg = 0.0
mean_anomaly_deg = 0.0

[[orbiter]]
name = "SPK-orbiter"
[orbiter.spk]
path = "tgo.bsp"
naif_id = -143

[[orbiter]]
name = "OEM-orbiter"
[orbiter.oem]
path = "tgo.oem"

[[lander]]
name = "Rosalind Franklin"
agency = "ESA"
lat_deg = 18.20                       # planetocentric, [-90, 90]
lon_east_deg = 335.45                 # [0, 360) or [-180, 180)
height_km = -3.0                      # over the IAU ellipsoid, [-10, 25]
elevation_mask_deg = 10.0             # [0, 90)

[[station]]
name = "DSS-43"
agency = "NASA"
lat_deg = -35.4024                    # geodetic WGS84
lon_east_deg = 148.9813
height_m = 689.0
elevation_mask_deg = 10.0             # [0, 90)
dish_m = 70.0                         # optional, used by link models
"""


def test_specification_example_is_accepted_key_for_key(tmp_path: Path, write_scenario) -> None:
    orbit = J2Orbit(dataclasses.replace(_elements(), epoch_tdb_s=0.0))
    t = np.linspace(0.0, 3600.0, 9)
    write_orbiter_spk(tmp_path / "tgo.bsp", -143, t, *orbit.state_km(t))  # read at load time
    write_oem(tmp_path / "tgo.oem", "TGO", t, *orbit.state_km(t))
    sc = load_scenario(write_scenario(SPEC_EXAMPLE))
    assert sc.name == "exomars-2030" and sc.description == "free text"
    assert (sc.start_utc, sc.end_utc) == ("2030-06-01T00:00:00Z", "2030-07-01T00:00:00Z")
    assert sc.rotation_model == "iau2009" and sc.conjunction_sep_deg == 2.0
    assert sc.grazing_height_km == 0.0
    tgo, spk, oem = sc.orbiters
    assert (tgo.name, tgo.agency, tgo.max_range_km, tgo.source) == ("TGO", "ESA", 5000.0,
                                                                    "elements")
    assert tgo.elements is not None and tgo.elements.a_km == 3796.19
    assert (spk.source, spk.spk_path, spk.naif_id) == ("spk", tmp_path / "tgo.bsp", -143)
    assert (oem.source, oem.oem_path) == ("oem", tmp_path / "tgo.oem")
    (rf,) = sc.landers
    assert (rf.site.lat_deg, rf.site.lon_east_deg, rf.site.height_km) == (18.20, 335.45, -3.0)
    assert rf.site.elevation_mask_deg == 10.0 and rf.direct_to_earth is True
    (dss,) = sc.stations
    assert (dss.name, dss.agency, dss.lat_deg, dss.lon_east_deg) == ("DSS-43", "NASA", -35.4024,
                                                                     148.9813)
    assert (dss.height_m, dss.elevation_mask_deg, dss.dish_m) == (689.0, 10.0, 70.0)
    assert sc.node_names() == ["TGO", "SPK-orbiter", "OEM-orbiter", "Rosalind Franklin",
                               "DSS-43"]
    # The OEM trajectory reads the file the scenario points to (relative to the scenario).
    pos, _ = oem.trajectory(sc.rotation).state_km(t[4])
    assert np.allclose(pos, orbit.state_km(t[4])[0], atol=1e-5)


def _elements():
    from marsrelay.geometry.orbits import MeanElements

    return MeanElements(0.0, 3796.19, 0.0, 74.0, 0.0, 0.0, 0.0)


def test_relative_paths_start_at_the_scenario_folder(tmp_path: Path, write_scenario,
                                                     monkeypatch) -> None:
    (tmp_path / "sub" / "kernels").mkdir(parents=True)
    orbit = J2Orbit(_elements())
    t = np.linspace(0.0, 3600.0, 9)
    write_orbiter_spk(tmp_path / "sub" / "kernels" / "x.bsp", -999, t, *orbit.state_km(t))
    text = BASE_TOML.replace('[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n',
                             '[orbiter.spk]\npath = "kernels/x.bsp"\nnaif_id = -999\n')
    path = write_scenario(text, name="sub/scenario.toml")
    monkeypatch.chdir(tmp_path)  # the working folder must not matter
    sc = load_scenario(path)
    assert sc.orbiters[0].spk_path == (tmp_path / "sub" / "kernels" / "x.bsp")


def test_epochs_and_span_convert_utc_to_tdb_like_spice(tmp_path: Path, write_scenario) -> None:
    text = BASE_TOML.replace("i_deg = 74.0", 'i_deg = 74.0\nepoch = "2016-12-31T23:59:60.5Z"')
    text = text.replace('start = "2030-06-01T00:00:00Z"', 'start = 2030-06-01T01:02:03.25Z')
    sc = load_scenario(write_scenario(text))
    with LoadedKernels([write_lsk(tmp_path)]):
        epoch_et = sp.str2et("2016-12-31T23:59:60.5")
        start_et = sp.str2et("2030-06-01T01:02:03.25")
        end_et = sp.str2et("2030-06-02T00:00:00")
    assert sc.orbiters[0].elements.epoch_tdb_s == pytest.approx(epoch_et, abs=1e-6)
    assert sc.start_tdb_s == pytest.approx(start_et, abs=1e-6)
    assert sc.end_tdb_s == pytest.approx(end_et, abs=1e-6)
    assert sc.start_utc == "2030-06-01T01:02:03.250000Z"  # a TOML date-time, read as UTC
    # An epoch left out is the scenario start.
    assert sc.orbiters[1].elements.epoch_tdb_s == sc.start_tdb_s


def test_defaults_are_the_documented_ones(write_scenario) -> None:
    sc = load_scenario(write_scenario())
    mro = sc.orbiters[1]
    # spec/scenario.md: max_range_km is optional with no stated default -> no range limit.
    assert (mro.agency, mro.max_range_km, mro.radio, mro.blackouts) == ("", math.inf, None, ())
    el = mro.elements
    assert (el.argp_deg, el.mean_anomaly_deg) == (0.0, 0.0)
    st = sc.stations[0]
    assert st.elevation_mask_deg == 10.0 and st.agency == ""
    assert sc.station_blackouts == {"DSS-43": ()}
    assert sc.rotation.name == "iau2009"


def test_negative_east_longitude_and_optional_keys(write_scenario) -> None:
    extra = (
        'radio = "electra-lite"\ndirect_to_earth = false\n'
        'blackouts = [["2030-06-01T06:00:00Z", "2030-06-01T07:00:00Z"]]\n'
    )
    text = BASE_TOML.replace("lon_east_deg = 335.368", "lon_east_deg = -24.632\n" + extra)
    text = text.replace('end = "2030-06-02T00:00:00Z"',
                        'end = "2030-06-02T00:00:00Z"\ngrazing_height_km = 20.0\n'
                        'rotation_model = "iau2015"')
    sc = load_scenario(write_scenario(text))
    (rf,) = sc.landers
    assert rf.site.lon_east_deg == -24.632 and rf.radio == "electra-lite"
    assert rf.direct_to_earth is False
    (w,) = rf.blackouts
    # TDB - UTC varies by microseconds over hours (periodic terms): 1e-4 s tolerance.
    assert w[1] - w[0] == pytest.approx(3600.0, abs=1e-4)
    assert w[0] - sc.start_tdb_s == pytest.approx(6 * 3600.0, abs=1e-4)
    assert sc.grazing_height_km == 20.0 and sc.rotation.name == "iau2015"


def test_with_overrides_recomputes_tdb_and_keeps_the_rest(write_scenario) -> None:
    sc = load_scenario(write_scenario())
    later = sc.with_overrides(end_utc="2030-06-03T00:00:00Z")
    assert later.end_tdb_s - sc.end_tdb_s == pytest.approx(86400.0, abs=1e-4)
    assert later.orbiters == sc.orbiters and later.name == sc.name
    shorter = sc.with_overrides(end_tdb_s=sc.start_tdb_s + 3600.0)
    assert shorter.end_utc == "2030-06-01T01:00:00.000Z"
    with pytest.raises(ScenarioError, match="not after start"):
        sc.with_overrides(end_tdb_s=sc.start_tdb_s)


def test_to_dict_round_trips_the_values(write_scenario) -> None:
    sc = load_scenario(write_scenario())
    d = sc.to_dict()
    assert d["name"] == "test-case" and d["start_tdb_s"] == sc.start_tdb_s
    assert [o["name"] for o in d["orbiters"]] == ["TGO", "MRO"]
    assert d["orbiters"][1]["elements"]["raan_deg"] == 40.0
    assert d["landers"][0]["lat_deg"] == 18.275 and d["stations"][0]["dish_m"] == 70.0
    assert set(d) >= {"links", "traffic", "schedule", "simulation"}


# ----------------------------------------------------------------------------------------------
# Built-in scenarios
# ----------------------------------------------------------------------------------------------

EXPECTED_BUILTINS = {
    "curiosity-insight-tgo-2019": (["TGO", "MRO", "Odyssey", "MAVEN"], ["Curiosity", "InSight"]),
    "exomars-2022-roscosmos": (["TGO", "MRO", "MAVEN"], ["Rosalind Franklin", "Kazachok"]),
    "exomars-2030": (["TGO", "MRO", "MAVEN"], ["Rosalind Franklin"]),
    "exomars-2030-no-tgo": (["MRO", "MAVEN", "Mars Express"], ["Rosalind Franklin"]),
}


def test_builtin_names_are_the_shipped_files() -> None:
    assert builtin_scenario_names() == sorted(EXPECTED_BUILTINS)


@pytest.mark.parametrize("name", sorted(EXPECTED_BUILTINS))
def test_builtin_scenario_loads_with_its_nodes(name: str) -> None:
    sc = load_scenario(name)
    assert isinstance(sc, Scenario) and sc.name == name
    orbiters, landers = EXPECTED_BUILTINS[name]
    assert [o.name for o in sc.orbiters] == orbiters
    assert [la.name for la in sc.landers] == landers
    assert sc.stations and all(st.dish_m and st.elevation_mask_deg == 10.0 for st in sc.stations)
    assert sc.end_tdb_s - sc.start_tdb_s == pytest.approx(30 * 86400.0, abs=1.0)
    assert sc.path is not None and sc.path.name == f"{name}.toml"
    text = sc.path.read_text()
    assert "chosen" in text.lower() and "source" in text.lower()  # phases and sources stated


def test_builtin_orbits_match_published_altitudes() -> None:
    """Mean elements reproduce the published periapsis/apoapsis altitudes over 3396.19 km.

    ESA TGO pages (~400 km circular, i = 74); NASA/JPL MRO pages (~255 x 320 km, i ~92.6);
    NASA MAVEN 2019 relay orbit (~150 x 4500 km, i = 75); ESA Mars Express (~300 x 10,000 km,
    i ~86, period ~7 h).
    """
    r = 3396.19
    published = {"TGO": (400, 400, 74.0), "MRO": (255, 320, 92.6), "MAVEN": (150, 4500, 75.0),
                 "Mars Express": (300, 10000, 86.0), "Odyssey": (400, 400, 93.1)}
    seen = set()
    for name in builtin_scenario_names():
        for o in load_scenario(name).orbiters:
            el = o.elements
            hp, ha, inc = published[o.name]
            assert el.a_km * (1 - el.e) - r == pytest.approx(hp, abs=0.1)
            assert el.a_km * (1 + el.e) - r == pytest.approx(ha, abs=0.1)
            assert el.i_deg == inc
            seen.add(o.name)
    assert seen == set(published)
    mex = load_scenario("exomars-2030-no-tgo").orbiters[2]
    period_h = 2 * math.pi * math.sqrt(mex.elements.a_km**3 / 42828.37362) / 3600
    assert 6.5 < period_h < 7.2


def test_builtin_sites_match_published_coordinates() -> None:
    """NASA/JPL Bradbury Landing (-4.5895, 137.4417); NASA InSight (4.5024, 135.6234); IAU
    Gazetteer Oxia Planum (18.275, 335.368)."""
    sites = {la.name: la.site for la in load_scenario("curiosity-insight-tgo-2019").landers}
    assert (sites["Curiosity"].lat_deg, sites["Curiosity"].lon_east_deg) == (-4.5895, 137.4417)
    assert (sites["InSight"].lat_deg, sites["InSight"].lon_east_deg) == (4.5024, 135.6234)
    rf = load_scenario("exomars-2030").landers[0].site
    assert (rf.lat_deg, rf.lon_east_deg) == (18.275, 335.368)
    kz, rf22 = (la.site for la in reversed(load_scenario("exomars-2022-roscosmos").landers))
    gap_km = np.linalg.norm(kz.position_body_km - rf22.position_body_km)
    assert 1.0 < gap_km < 5.0  # "a few km" apart


def test_scenario_error_message_format_is_stable() -> None:
    err = ScenarioError("bad", file="f.toml", field="a.b", allowed="x")
    assert str(err) == "f.toml: a.b: bad (allowed: x)"
    assert re.fullmatch(r"[^\n]+", str(err))


def test_every_problem_of_a_file_is_reported_at_once(write_scenario, base_toml):
    """A file with several problems names each of them (not only the first), structural ones
    (types, unknown keys) in one pass and semantic ones (times, names, orbits) in the next."""
    text = base_toml.replace("i_deg = 74.0", 'i_deg = "steep"').replace(
        "lat_deg = 18.275", "lat_deg = 118.275").replace("[[station]]", "[[station]]\nsize = 3")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(text))
    fields = [e.field for e in info.value.errors]
    assert fields == ["orbiter[0].elements.i_deg", "lander[0].lat_deg", "station[0].size"]
    text = base_toml.replace('end = "2030-06-02T00:00:00Z"', 'end = "2030-05-02T00:00:00Z"')
    text = text.replace('name = "MRO"', 'name = "tgo"').replace("a_km = 3683.69", "a_km = 3000.0")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(text))
    fields = [e.field for e in info.value.errors]
    assert fields == ["scenario.end", "orbiter[1].name", "orbiter[1].elements"]


def test_a_misspelt_key_in_a_table_of_named_entries_names_the_nearest_key(write_scenario,
                                                                          base_toml):
    text = base_toml + "\n[links.spacecraft.TGO]\ntx_powr_w = 5.0\n"
    with pytest.raises(ScenarioError, match="did you mean 'tx_power_w'") as info:
        load_scenario(write_scenario(text))
    assert info.value.field == "links.spacecraft.TGO.tx_powr_w"
    assert "tx_power_w" in str(info.value.allowed) and "no keys" not in str(info.value)
