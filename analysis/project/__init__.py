"""A Gridcircle project: the results of a run with the planner's edits, in memory and in
one GeoPackage file.

Its modules:

``state``    :class:`Project` in memory (layers, settings, summary, the grid edit session)
             and what follows from an edit (:func:`edit_project`, :func:`with_session`,
             undo and redo); the area a project holds; the run settings saved with it.
``file``     saving and opening the project file (:func:`save`, :func:`open_project`,
             :func:`autosave`): atomic writes, revisions, the edit journal, a lock.
``checks``   a file's settings checked before they are used.
``values``   a file's rows checked when it is opened (:class:`ProjectRowsError`).
``upload``   opening a project the page received as an upload.
``follow``   a held project following a new run: measured again in place when only the
             walking settings changed (its grid parts kept), else made again from the run.

What other packages may use is listed in ``__all__``; everything else is internal.
"""

from analysis.project.checks import check_project_layers, check_project_meta
from analysis.project.file import (CONTRACT_LAYERS, EXTRA_LAYERS, FORMAT_VERSION, JOURNAL_TABLE,
                                   LAYER_ORDER, LOCK_TIMEOUT_S, META_TABLE, autosave,
                                   check_output_path, check_version, clean_stale_temps, file_lock,
                                   journal_frame, open_project, read_journal, read_layers,
                                   read_meta, recovery_path, save, save_project, to_storage)
from analysis.project.state import (Project, area_record, area_source_of, area_title,
                                    basemap_layers, coverage_by_grid, edit_project, file_identity,
                                    json_text, project_from_result, recount, redo_project,
                                    run_settings_of, same_area, session_from_layers,
                                    settings_differences, undo_project, walk_settings_of,
                                    wall_settings_of, with_session)
from analysis.project.upload import open_uploaded_project
from analysis.project.values import ProjectRowsError, check_project_rows

__all__ = [
    "CONTRACT_LAYERS", "EXTRA_LAYERS", "FORMAT_VERSION", "JOURNAL_TABLE", "LAYER_ORDER",
    "LOCK_TIMEOUT_S", "META_TABLE", "Project", "ProjectRowsError", "area_record",
    "area_source_of", "area_title", "autosave", "basemap_layers", "check_output_path",
    "check_project_layers", "check_project_meta", "check_project_rows", "check_version",
    "clean_stale_temps", "coverage_by_grid", "edit_project", "file_identity", "file_lock",
    "journal_frame", "json_text",
    "open_project", "open_uploaded_project", "project_from_result", "read_journal",
    "read_layers", "read_meta", "recount", "recovery_path", "redo_project", "run_settings_of",
    "same_area", "save", "save_project", "session_from_layers", "settings_differences",
    "to_storage", "undo_project", "walk_settings_of", "wall_settings_of", "with_session",
]
