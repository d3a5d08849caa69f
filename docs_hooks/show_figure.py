import base64

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from cnnkit import plots


def show(figure, alt):
    """Embed a matplotlib figure in the page as a PNG image."""
    data = base64.b64encode(plots.png_bytes(figure)).decode()
    print(f'<img alt="{alt}" src="data:image/png;base64,{data}">')
    plt.close(figure)
