from crossborder.cli.main import app

app()
