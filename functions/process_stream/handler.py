"""process_stream: the table's stream in; step statistics, workflows' last executions and published
events (EventBridge, webhook queue) out. Thin: the logic is execution_monitor.stream_consumer.

A record that could not be processed is reported in `batchItemFailures` (the event source mapping
has ReportBatchItemFailures on); the rest of the batch still counts.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from execution_monitor.aws import client
from execution_monitor.notifications import Publisher
from execution_monitor.observability import instrumented, logger
from execution_monitor.settings import EventSettings, TableSettings
from execution_monitor.store import default_store
from execution_monitor.stream_consumer import StreamConsumer

TableSettings.load()
EventSettings.load()


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Per invocation: the processor and the consumer both hold this batch's state.
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    store = default_store()
    settings = EventSettings.load()
    consumer = StreamConsumer(
        statistics=store.statistics,
        workflows=store.workflows,
        executions=store.executions,
        events_store=store.events,
        publisher=Publisher(
            client("events"), client("sqs"), settings.event_bus_name, settings.webhook_queue_url
        ),
    )
    response = process_partial_response(
        event=event, record_handler=consumer.handle, processor=processor, context=context
    )
    logger.info(
        "stream batch",
        extra={
            "records": len(event.get("Records", [])),
            "statistics_folded": consumer.folded,
            "events_published": consumer.published,
            "failed_records": len(response.get("batchItemFailures", [])),
        },
    )
    return dict(response)
