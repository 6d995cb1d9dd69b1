"""A minimal Django project that answers with an LLM through pepperpy (no database, no apps).

Run it with what ``make`` installs (Django is a dev dependency; any provider with a key in the environment):

    cd examples && OPENAI_API_KEY=sk-... python -m django runserver --settings=django_project.settings --pythonpath=.

    curl -X POST localhost:8000/complete -H 'content-type: application/json' -d '{"prompt": "Say hi"}'

In production put it behind a WSGI server of your choice (``django_project.wsgi.application``; gunicorn, for
one, is not installed by ``make``: ``pip install gunicorn``, then ``gunicorn django_project.wsgi`` from here).

Endpoints: ``GET /models`` (what a browser may pick), ``POST /complete``, ``POST /acomplete`` (an async view),
``POST /stream`` (server-sent events), each taking JSON ``{"prompt": "...", "model": "..."}``. The browser picks
among the models the app offers, never any model, as in examples/flask_app.py: ``PEPPERPY_MODELS`` names them,
``client.offered_models()`` keeps those whose providers have credentials, and any other model is a 400. Without
``PEPPERPY_MODELS`` only ``settings.PEPPERPY["MODEL"]`` is offered. docs/web-apps.md explains the choices.
"""
