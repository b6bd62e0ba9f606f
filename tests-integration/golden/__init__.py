"""The golden end-to-end pipeline (fixed bronze -> ``pointline`` CLI -> silver) and its expected output."""
