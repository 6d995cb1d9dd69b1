"""A minimal Django project that answers with an LLM through pepperpy (no database, no apps).

    cd examples && OPENAI_API_KEY=sk-... django-admin runserver --settings=django_project.settings --pythonpath=.
    cd examples && gunicorn --workers 2 --threads 8 --timeout 120 django_project.wsgi

Endpoints: ``POST /complete``, ``POST /acomplete`` (an async view), ``POST /stream`` (server-sent events),
each taking JSON ``{"prompt": "...", "model": "..."}``. docs/web-apps.md explains the choices.
"""
