"""The yardstick of bench/web.py: one route, no database, no templates."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
