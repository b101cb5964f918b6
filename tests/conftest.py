import os

# xlwings decides at import time whether to load its Office.js custom-functions server
# (the protocol Excel on the web, Windows, macOS and xlwings Lite speak). The tests
# drive the worksheet functions through that real machinery, so this must come first.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
