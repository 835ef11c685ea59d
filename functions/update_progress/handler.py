"""update_progress: the table's stream in, each completed step's wall time into its action's
statistics out (what every new execution's ETA is computed from).

Thin: the logic is execution_monitor.statistics_updater. A record whose step could not be folded is
reported in `batchItemFailures` (the event source mapping has ReportBatchItemFailures on); the
rest of the batch still counts.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from execution_monitor.observability import logger, tracer
from execution_monitor.settings import TableSettings
from execution_monitor.statistics_updater import StatisticsUpdater
from execution_monitor.store import default_store

TableSettings.load()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Per invocation: the processor and the updater both hold this batch's state.
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    updater = StatisticsUpdater(default_store().statistics)
    response = process_partial_response(
        event=event, record_handler=updater.handle, processor=processor, context=context
    )
    logger.info(
        "statistics batch",
        extra={
            "records": len(event.get("Records", [])),
            "statistics_folded": updater.folded,
            "failed_records": len(response.get("batchItemFailures", [])),
        },
    )
    return dict(response)
