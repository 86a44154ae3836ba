"""Named figures of the grids app, with where they come from."""

# China's bounding box in WGS-84 (mainland, Hainan and the South China Sea islands' northern part,
# with a margin): a polygon or point outside it is a data error (swapped lat/lng, a typo'd
# degree), not a place the street can work.
CHINA_MIN_LNG, CHINA_MAX_LNG = 73.4, 135.1
CHINA_MIN_LAT, CHINA_MAX_LAT = 3.8, 53.6

# Overlap between sibling cells below this many square metres is digitising noise, not a fault.
OVERLAP_TOLERANCE_M2 = 10.0

# How often a process checks whether another process changed the net (seconds). A changed cell is
# used for locating at most this long after the change is committed.
LOCATE_VERSION_CHECK_SECONDS = 2.0

# Beijing's grid codes are 15 digits: the 12-digit community code and a 3-digit sequence.
GRID_CODE_LENGTH = 15
