"""GCJ-02 / BD-09: the inverses must undo the forward transforms to well under 0.5 m
everywhere in mainland China, and leave points outside it alone."""

import numpy as np
import pytest
from pyproj import Geod

from geo import chinacrs

GEOD = Geod(ellps="WGS84")


def _mainland_grid(step_deg: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.arange(73.7, 135.0, step_deg), np.arange(18.0, 53.5, step_deg))
    lon, lat = lon.ravel(), lat.ravel()
    inside = chinacrs.in_mainland_china(lon, lat)
    return lon[inside], lat[inside]


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_gcj02_inverse_under_half_a_metre_across_mainland_china():
    lon, lat = _mainland_grid()
    assert lon.size > 50_000
    g_lon, g_lat = chinacrs.wgs84_to_gcj02(lon, lat)
    shift = _metres(lon, lat, g_lon, g_lat)
    assert shift.min() > 1 and shift.max() > 100  # the transform really shifts
    back_lon, back_lat = chinacrs.gcj02_to_wgs84(g_lon, g_lat)
    error = _metres(lon, lat, back_lon, back_lat)
    assert error.max() < 0.5
    assert error.max() < 0.001  # in fact sub-millimetre


def test_bd09_inverse_under_half_a_metre_across_mainland_china():
    lon, lat = _mainland_grid()
    b_lon, b_lat = chinacrs.wgs84_to_bd09(lon, lat)
    back_lon, back_lat = chinacrs.bd09_to_wgs84(b_lon, b_lat)
    error = _metres(lon, lat, back_lon, back_lat)
    assert error.max() < 0.5
    assert error.max() < 0.001


def test_closed_form_bd09_inverse_is_only_approximate():
    lon, lat = _mainland_grid(1.0)
    g_lon, g_lat = chinacrs.wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = chinacrs.gcj02_to_bd09(g_lon, g_lat)
    c_lon, c_lat = chinacrs.bd09_to_gcj02(b_lon, b_lat)
    error = _metres(g_lon, g_lat, c_lon, c_lat)
    assert 0.01 < error.max() < 0.5  # why bd09_to_wgs84 iterates instead


def test_outside_mainland_china_nothing_moves():
    lon = np.array([2.35, -74.0, 151.2, 139.7])
    lat = np.array([48.85, 40.7, -33.9, 60.0])
    for forward, inverse in ((chinacrs.wgs84_to_gcj02, chinacrs.gcj02_to_wgs84),):
        f_lon, f_lat = forward(lon, lat)
        np.testing.assert_array_equal(f_lon, lon)
        np.testing.assert_array_equal(f_lat, lat)
        i_lon, i_lat = inverse(lon, lat)
        np.testing.assert_array_equal(i_lon, lon)
        np.testing.assert_array_equal(i_lat, lat)


def test_beijing_shift_is_hundreds_of_metres():
    g_lon, g_lat = chinacrs.wgs84_to_gcj02(116.3, 39.9)
    assert 200 < _metres(116.3, 39.9, g_lon, g_lat) < 800
    b_lon, b_lat = chinacrs.wgs84_to_bd09(116.3, 39.9)
    assert _metres(116.3, 39.9, b_lon, b_lat) > _metres(116.3, 39.9, g_lon, g_lat)


def test_non_finite_inputs_do_not_spoil_the_others():
    lon = np.array([np.nan, 116.3, np.inf])
    lat = np.array([39.9, 39.9, 39.9])
    g_lon, g_lat = chinacrs.wgs84_to_gcj02(lon[1:2], lat[1:2])
    back_lon, back_lat = chinacrs.gcj02_to_wgs84(np.array([np.nan, g_lon[0], np.inf]), lat * 0 + g_lat[0])
    assert np.isnan(back_lon[0])
    assert _metres(116.3, 39.9, back_lon[1], back_lat[1]) < 0.001


@pytest.mark.parametrize("lon,lat", [(116.3, 39.9), (121.47, 31.23), (113.26, 23.13), (87.6, 43.8)])
def test_scalars_round_trip(lon, lat):
    back = chinacrs.gcj02_to_wgs84(*chinacrs.wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, float(back[0]), float(back[1])) < 0.001
