"""The workflow engine: the Standard state machine, its run_action task, and the run reconciler.

The state machine's definition is `infrastructure/state_machine.asl.json`, the same file the local
runtime renders for moto, loaded here with `definition_substitutions`: what `make dev` runs is what
deploys, by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infrastructure.constants import (
    ENGINE_LOG_RETENTION,
    RECONCILER_RETRY_ATTEMPTS,
    RUN_ACTION_TIMEOUT_SECONDS,
    STATE_MACHINE_LOGICAL_ID,
)
from infrastructure.constructs.data import Data
from infrastructure.constructs.failures import FailedEventsQueue
from infrastructure.constructs.functions import FunctionFactory
from infrastructure.nag import acknowledge, flatten_reference
from infrastructure.routes import ENGINE_FUNCTION, RECONCILER_FUNCTION
from infrastructure.state_machine import RUN_ACTION_PLACEHOLDER, definition_template

# run_action reads the execution (Query) and records each step with conditional transactions.
RUN_ACTION_WRITES = ("dynamodb:UpdateItem",)
ENDED_RUN_STATUSES = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


class Engine(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        functions: FunctionFactory,
        failures: FailedEventsQueue,
        message_queue_arns: Sequence[str] = (),
        message_topic_arns: Sequence[str] = (),
        http_allowed_networks: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.run_action = functions.create(
            self,
            ENGINE_FUNCTION,
            environment={"HTTP_ACTION_ALLOWED_NETWORKS": http_allowed_networks},
            timeout=Duration.seconds(RUN_ACTION_TIMEOUT_SECONDS),
        )
        data.grant_read(self.run_action.role)
        data.grant_writes(self.run_action.role, RUN_ACTION_WRITES)
        # send_message may reach only the queues and topics this deployment names, nothing else.
        if message_queue_arns:
            iam.Grant.add_to_principal(
                grantee=self.run_action.role,
                actions=["sqs:SendMessage"],
                resource_arns=list(message_queue_arns),
            )
        if message_topic_arns:
            iam.Grant.add_to_principal(
                grantee=self.run_action.role, actions=["sns:Publish"], resource_arns=list(message_topic_arns)
            )

        log_group = logs.LogGroup(self, "RunLogs", retention=ENGINE_LOG_RETENTION)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition_template()),
            definition_substitutions={RUN_ACTION_PLACEHOLDER: self.run_action.function.function_arn},
            tracing_enabled=True,
            # Every state transition is logged, without the payloads (they may carry user data).
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        self.run_action.function.grant_invoke(self.state_machine)
        machine_policy = self.state_machine.role.node.find_child("DefaultPolicy")
        function_arn = self.run_action.function.function_arn
        acknowledge(
            machine_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing and CloudWatch Logs delivery for Step Functions support no resource-level "
            "permissions; the task permission is scoped to run_action.",
        )
        acknowledge(
            machine_policy,
            f"AwsSolutions-IAM5[Resource::{flatten_reference(Stack.of(self).resolve(function_arn))}:*]",
            "lambda:InvokeFunction on run_action's versions and aliases (ARN:*), as grant_invoke writes it.",
        )
        cfn_machine = self.state_machine.node.default_child
        assert isinstance(cfn_machine, sfn.CfnStateMachine)
        cfn_machine.override_logical_id(STATE_MACHINE_LOGICAL_ID)

        self.reconciler = functions.create(self, RECONCILER_FUNCTION)
        data.grant_read(self.reconciler.role)
        data.grant_writes(self.reconciler.role, ("dynamodb:UpdateItem",))
        self.run_ended = events.Rule(
            self,
            "RunEnded",
            description="Settle an execution whose run ended without run_action recording it",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                    "status": ENDED_RUN_STATUSES,
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.reconciler.function,
                    retry_attempts=RECONCILER_RETRY_ATTEMPTS,
                    max_event_age=Duration.hours(6),
                    dead_letter_queue=failures.queue,
                )
            ],
        )
