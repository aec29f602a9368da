"""The quick start, exactly as the README shows it."""

from flowwright import FlowTestClient


async def test_osb_flow():
    async with FlowTestClient.create() as client:
        await client.start_flow("osb", "What is Meta's hate speech policy?")
        prompt = await client.wait_for_ui_message(pattern="proceed|confirm|start", timeout=30)
        await client.send_manager_response("Yes, please proceed")
        results = await client.wait_for_agent_results(
            expected_agents=["researcher", "policy_analyst"], timeout=120)
        assert any("hate speech" in r.content for r in results)
