from grids.models.cells import GridAssignment, GridCell, GridNetVersion
from grids.models.regions import Region
from grids.models.subjects import Subject

__all__ = ["GridAssignment", "GridCell", "GridNetVersion", "Region", "Subject"]
