"""ClearRec Desktop: offline screening of cannabis convictions for Prop 64 relief."""

__version__ = "0.1.0"
