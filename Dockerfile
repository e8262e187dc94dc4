# Switchyard runtime image: the Django control plane (gunicorn, port 8000) and the faust worker (port 8001)
# run from this one image; compose.yaml picks the process with `command:`.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# No DJANGO_SETTINGS_MODULE here: manage.py and control/wsgi.py set it for the control plane, and
# the worker must not have it (faust's Django fixup would set Django up inside the data plane).

# Unprivileged runtime user. It owns /app itself (the worker keeps its local table state in the working
# directory), but not the code copied into it.
RUN groupadd --system switchyard \
    && useradd --system --gid switchyard --create-home --home-dir /home/switchyard switchyard \
    && install -d -o switchyard -g switchyard /app
WORKDIR /app

# Dependencies first, so code changes do not invalidate this layer. Every requirement is pinned.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY manage.py ./
COPY control/ control/
COPY streams/ streams/
COPY connectors/ connectors/

# Static files are collected into the image. The secret key exists only for this one command; it is not baked
# into any ENV, and the real one comes from the environment at run time.
RUN SWITCHYARD_SECRET_KEY=build-only python manage.py collectstatic --noinput

USER switchyard

EXPOSE 8000 8001

CMD ["gunicorn", "control.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
