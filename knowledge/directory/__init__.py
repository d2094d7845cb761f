"""The directory of sites: which site of a network serves a commune (lookup), one site from many sources
(merge), straight-line distances (geo) and where the data has holes (coverage)."""

from knowledge.directory.lookup import LEVEL_ORDER, Directory, MatchLevel, SiteMatch

__all__ = ["LEVEL_ORDER", "Directory", "MatchLevel", "SiteMatch"]
