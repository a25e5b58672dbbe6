"""failbrief: turns a failed data-pipeline run into a ready-made root-cause summary."""
