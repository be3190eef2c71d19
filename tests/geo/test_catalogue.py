import pandas as pd
import pytest

from geo.catalogue import REQUIRED_KEYS, load_catalogue, match_services, service_by_key
from geo.errors import InputError


def test_catalogue_has_required_keys_sources_and_standard_thresholds():
    cat = load_catalogue()
    keys = [s.key for s in cat]
    assert set(REQUIRED_KEYS) <= set(keys)
    for s in cat:
        assert s.source and s.name_zh and s.name_en
        assert s.convention in ("standard", "local")
        assert s.threshold_min in (5, 10, 15)
    assert service_by_key(cat, "kindergarten").threshold_min == 5
    assert service_by_key(cat, "primary_school").threshold_min == 10
    assert service_by_key(cat, "middle_school").threshold_min == 15
    assert service_by_key(cat, "elderly_care").profile == "elderly"


def test_tag_rules_match_features():
    tags = pd.DataFrame([
        {"amenity": "kindergarten", "name": "阳光幼儿园"},
        {"amenity": "school", "name": "实验小学"},
        {"amenity": "school", "name": "九年一贯制学校", "isced:level": "1;2"},
        {"highway": "bus_stop", "name": "幼儿园站"},
        {"shop": "supermarket"},
        {"amenity": "restaurant"},
        {"amenity": "school", "name": "某学校"},
    ])
    hits = match_services(tags, load_catalogue())
    by_row = hits.groupby("row")["service"].apply(set).to_dict()
    assert by_row[0] == {"kindergarten"}
    assert by_row[1] == {"primary_school"}
    assert "primary_school" in by_row[2]
    assert by_row[3] == {"bus_stop"}  # a stop named after a kindergarten is not one
    assert by_row[4] == {"market"}
    assert 5 not in by_row and 6 not in by_row


def test_bad_catalogue_row_names_file_and_row(tmp_path):
    path = tmp_path / "services.csv"
    path.write_text("key,name_zh,name_en,osm_tags,threshold_min,level,profile,convention,source\n"
                    "health,诊所,Clinic,amenity=clinic,abc,15,adult,standard,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2"):
        load_catalogue(path)
