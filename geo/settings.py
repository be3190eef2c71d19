"""Settings of the geo side, as small frozen dataclasses validated on creation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from geo.errors import SettingsError


def check_range(name: str, value: float, low: float, high: float) -> None:
    """Raise :class:`SettingsError` unless ``low <= value <= high``."""
    if not (low <= value <= high):
        raise SettingsError("err.setting_range", name=name, value=value, allowed=f"{low}–{high}")


#: Average persons per family household, 2020 census (第七次全国人口普查), national.
PERSONS_PER_HOUSEHOLD = 2.62


@dataclass(frozen=True)
class HouseholdSettings:
    """How households are estimated where no register is given.

    Attributes
    ----------
    dwelling_m2
        Gross floor area per household. 90 m² is the size line of China's housing
        policy (套型建筑面积90平方米) and a common planning assumption; a setting.
    default_levels
        Storeys assumed for a residential building with neither ``building:levels``
        nor ``height``.
    metres_per_level
        Storey height used to turn ``height`` into storeys.
    compound_far
        Floor-area ratio (容积率) assumed for a residential compound without
        footprints. 1.8 lies inside GB 50180-2018 Table 4.0.1's range for 7–9 storey
        housing in cold climate zones (1.5–1.9); a setting.
    compound_point_spacing_m
        Spacing of the points that carry a compound's households, so that grids can be
        cut inside it.
    min_footprint_share
        A compound whose mapped residential footprints cover less than this share of its
        area is treated as having no footprints (Chinese OSM often maps only a few).
    min_building_m2
        Footprints smaller than this are sheds, kiosks or mapping errors, not homes.
    include_dormitories
        Count dormitories (``building=dormitory``) as homes. Off by default: students and
        workers in dormitories are not households a community grid serves.
    persons_per_household
        Persons per household, both ways: a population count becomes households
        (:func:`geo.population.households_from_population`) and households become the
        persons whose school places and beds the capacity stage counts. 2.62 is the
        2020 census's national average family household (平均每个家庭户的人口为2.62人,
        seventh national census, bulletin no. 2); a setting.
    """

    dwelling_m2: float = 90.0
    default_levels: int = 6
    metres_per_level: float = 3.0
    compound_far: float = 1.8
    compound_point_spacing_m: float = 40.0
    min_footprint_share: float = 0.10
    min_building_m2: float = 30.0
    include_dormitories: bool = False
    persons_per_household: float = PERSONS_PER_HOUSEHOLD

    def __post_init__(self) -> None:
        check_range("dwelling_m2", self.dwelling_m2, 20, 500)
        check_range("default_levels", self.default_levels, 1, 100)
        check_range("metres_per_level", self.metres_per_level, 2, 6)
        check_range("compound_far", self.compound_far, 0.1, 10)
        check_range("compound_point_spacing_m", self.compound_point_spacing_m, 5, 500)
        check_range("min_footprint_share", self.min_footprint_share, 0, 1)
        check_range("min_building_m2", self.min_building_m2, 0, 1000)
        check_range("persons_per_household", self.persons_per_household, 1.0, 10.0)
        if not isinstance(self.include_dormitories, bool):
            raise SettingsError("err.setting_range", name="include_dormitories",
                                value=self.include_dormitories, allowed="true / false")

    @property
    def estimate(self) -> "HouseholdSettings":
        """What the household estimate reads: these settings with persons per household
        at its default (it is read only where a population count or the capacity stage
        turns persons into households or back; a change of it alone re-draws no grid)."""
        return replace(self, persons_per_household=PERSONS_PER_HOUSEHOLD)

    @property
    def compound_households_per_m2(self) -> float:
        """Households per m² of compound land implied by the floor-area ratio."""
        return self.compound_far / self.dwelling_m2


@dataclass(frozen=True)
class InputLimits:
    """Limits on files users upload, so that a huge or hostile file is refused early.

    Attributes
    ----------
    max_file_mb
        Largest file accepted. The Streamlit server's ``maxUploadSize`` should match it
        (Streamlit's own default is 200 MB).
    max_uncompressed_mb
        Largest total size a zip file (a zipped Shapefile, or an .xlsx, which is a zip)
        may expand to; beyond it the file is treated as a zip bomb.
    max_compression_ratio
        Largest ratio of expanded to compressed size of one zip member; real layers and
        spreadsheets compress 3–50×, zip bombs thousands of times.
    max_zip_members
        Most files a zip may hold.
    max_rows
        Most rows (or features) a table or layer may hold.
    max_columns
        Most columns with content a table's row may hold (a register has a few dozen).
    max_cells
        Most cells a table may hold in all, empty ones included.
    max_feature_vertices
        Most vertices one feature (a community or compound outline, a footprint) may have;
        surveyed boundaries have a few thousand, a million-vertex outline only slows every
        step down (minutes and gigabytes).
    outside_area_m
        Points farther than this outside the study area are reported as likely mistakes.
    max_osm_mb
        Largest OpenStreetMap XML accepted, measured after decompression (an ``.osm.bz2``
        or ``.osm.gz`` is counted while it is streamed, so a small compressed file cannot
        expand without bound). osmnx takes 15–100 times the XML size in memory (measured).
    max_osm_ratio
        Largest ratio of decompressed to compressed size of an OSM file beyond its first
        4 MB: real extracts compress 8–20×, compression bombs thousands of times.
    """

    max_file_mb: float = 200.0
    max_uncompressed_mb: float = 1000.0
    max_compression_ratio: float = 1000.0
    max_zip_members: int = 1000
    max_rows: int = 2_000_000
    max_columns: int = 1000
    max_cells: int = 40_000_000
    max_feature_vertices: int = 100_000
    outside_area_m: float = 3000.0
    max_osm_mb: float = 512.0
    max_osm_ratio: float = 40.0

    def __post_init__(self) -> None:
        check_range("max_file_mb", self.max_file_mb, 0.001, 10_000)
        check_range("max_uncompressed_mb", self.max_uncompressed_mb, 0.001, 100_000)
        check_range("max_compression_ratio", self.max_compression_ratio, 2, 1_000_000)
        check_range("max_zip_members", self.max_zip_members, 1, 1_000_000)
        check_range("max_rows", self.max_rows, 1, 100_000_000)
        check_range("outside_area_m", self.outside_area_m, 0, 1_000_000)
        check_range("max_osm_mb", self.max_osm_mb, 0.001, 100_000)
        check_range("max_osm_ratio", self.max_osm_ratio, 2, 1_000_000)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_uncompressed_bytes(self) -> int:
        return int(self.max_uncompressed_mb * 1024 * 1024)

    @property
    def max_osm_bytes(self) -> int:
        return int(self.max_osm_mb * 1024 * 1024)
