import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import chinacrs
from geo.crs import choose_crs, normalise_crs_name, require_projected, to_wgs84
from geo.errors import CRSError


@pytest.mark.parametrize("name, expected", [
    ("wgs84", "wgs84"), ("WGS-84", "wgs84"), ("EPSG:4326", "wgs84"), ("gcj02", "gcj02"),
    ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("cgcs2000", "cgcs2000"), ("EPSG:4490", "cgcs2000"),
    ("EPSG:4547", "EPSG:4547"), ("epsg:32650", "EPSG:32650"),
])
def test_normalise_crs_name(name, expected):
    assert normalise_crs_name(name) == expected


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(CRSError, match="Unknown coordinate system"):
        normalise_crs_name("mars2000")


def test_gcj02_input_is_shifted_back_to_wgs84():
    lon, lat = 116.3458, 40.0031
    glon, glat = chinacrs.wgs84_to_gcj02(lon, lat)
    assert abs(glon - lon) > 1e-3  # hundreds of metres apart
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(float(glon), float(glat))])
    out = to_wgs84(gdf, "gcj02")
    metres = gpd.GeoSeries([shapely.Point(lon, lat), out.geometry.iloc[0]], crs=4326).to_crs(32650)
    assert metres.iloc[0].distance(metres.iloc[1]) < 0.5


def test_layer_without_crs_must_be_told():
    with pytest.raises(CRSError):
        to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(116, 40)]))


def test_choose_crs_is_local_utm_and_projected_check():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(116.35, 40.0)], crs=4326)
    crs = choose_crs(gdf)
    assert crs.to_epsg() == 32650
    with pytest.raises(CRSError):
        require_projected(gdf)
    require_projected(gdf.to_crs(crs))
    assert np.isfinite(gdf.to_crs(crs).geometry.x.iloc[0])
