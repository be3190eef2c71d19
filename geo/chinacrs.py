"""China's obfuscated web-map coordinates: GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

GCJ-02 is WGS84 shifted by a published nonlinear offset of up to several hundred metres,
applied inside mainland China only; BD-09 is a further rotation of GCJ-02. The forward
transforms are closed formulas; the inverses are found by fixed-point iteration on the
forward transform until the residual is below 1e-10 degrees (about 0.01 mm).

GCJ-02 applies inside mainland China only (:func:`in_mainland_china` is the usual rough
box); elsewhere it equals WGS84 and nothing is shifted.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def in_mainland_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Rough mainland-China box, where GCJ-02's offset applies (outside it is zero)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (no shift outside mainland China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    inside = in_mainland_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 by the usual closed formula (an approximation, off by up to 0.2 m;
    :func:`bd09_to_wgs84` refines it by iteration)."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _gcj02_shift(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 forward formula without the mainland mask (smooth, for iterating)."""
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon, lat, *, tol_deg: float = 1e-10, max_iter: int = 50):
    """Solve ``forward(x) = (lon, lat)`` by fixed-point iteration.

    Converges because both transforms are the identity plus a slowly varying offset (its
    derivative is of order 1e-3). Non-finite inputs stay NaN and do not stop the others.
    """
    target_lon = np.asarray(lon, dtype=float)
    target_lat = np.asarray(lat, dtype=float)
    guess_lon, guess_lat = target_lon.copy(), target_lat.copy()
    with np.errstate(invalid="ignore"):
        for _ in range(max_iter):
            f_lon, f_lat = forward(guess_lon, guess_lat)
            err_lon, err_lat = f_lon - target_lon, f_lat - target_lat
            guess_lon = guess_lon - err_lon
            guess_lat = guess_lat - err_lat
            err = np.maximum(np.abs(err_lon), np.abs(err_lat))
            if not np.any(err[np.isfinite(err)] >= tol_deg):
                break
    return guess_lon, guess_lat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84 by iterating the forward transform.

    Accurate to well under a millimetre across mainland China (the tests check < 0.5 m on
    a grid over the whole country). GCJ-02 shifts only points inside mainland China, so a
    point whose WGS84 position falls outside :func:`in_mainland_china` is returned
    unchanged, exactly as the forward transform leaves it.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = _invert(_gcj02_shift, lon, lat)
    inside = in_mainland_china(w_lon, w_lat)
    return np.where(inside, w_lon, lon), np.where(inside, w_lat, lat)


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS84: BD-09 → GCJ-02 refined by iteration (the closed form alone is off by
    up to 0.2 m), then GCJ-02 → WGS84."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    g_lon, g_lat = _invert(gcj02_to_bd09, lon, lat)
    return gcj02_to_wgs84(g_lon, g_lat)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
