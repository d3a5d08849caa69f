"""A readable, self-contained HTML report on a trained CNN: ``cnnkit.report.build(...)``.

The page covers the dataset, the model summary, training curves, test accuracy and confusion
matrix, misclassified images, activation maps and filters, pixel vs latent t-SNE and nearest
neighbours, and a kNN baseline next to the CNN. Figures are embedded PNGs: one file, no
scripts, no downloads.

``cnnkit.report.walkthrough(model, image, path)`` writes a page that follows one image through
every layer; a click on any neuron shows its computation (an inline script, still no downloads).
"""

from __future__ import annotations

from cnnkit.report._audit import audit_page as audit_page
from cnnkit.report._build import SECTION_IDS as SECTION_IDS
from cnnkit.report._build import build as build
from cnnkit.report._walkthrough import walkthrough as walkthrough

__all__ = ["SECTION_IDS", "audit_page", "build", "walkthrough"]
