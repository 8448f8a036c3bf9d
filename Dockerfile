# The worker and the simulator, for docker-compose.yml. (No Docker engine runs on the project's own
# machines; the same stack runs there with `make demo`.)
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
RUN pip install --no-cache-dir .
ENV OUTCOME_MONITOR_WEB_HOST=0.0.0.0
EXPOSE 6066
ENTRYPOINT ["outcome-monitor"]
CMD ["worker"]
