"""Real PDF documents for the FedEx emulator: a 4x6 label and a commercial invoice (fpdf2)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF


def _latin(text: Any) -> str:
    """fpdf2's core fonts are Latin-1; characters outside it print as '?'."""
    return str(text).encode("latin-1", errors="replace").decode("latin-1")


def _address_lines(party: dict[str, Any]) -> list[str]:
    contact, address = party.get("contact", {}), party.get("address", {})
    lines = [contact.get("personName", ""), contact.get("companyName", "")]
    lines += list(address.get("streetLines", []))
    lines.append(
        " ".join(
            str(p)
            for p in (
                address.get("city"),
                address.get("stateOrProvinceCode"),
                address.get("postalCode"),
            )
            if p
        )
    )
    lines.append(address.get("countryCode", ""))
    return [line for line in lines if line]


def _barcode(pdf: FPDF, digits: str, x: float, y: float, width: float, height: float) -> None:
    """Bars whose widths follow the digits: a printable stand-in for the real 2D code."""
    bars = [1 + int(d) % 3 for d in digits * 3]
    unit = width / (sum(bars) * 2)
    cursor = x
    for bar in bars:
        pdf.rect(cursor, y, bar * unit, height, style="F")
        cursor += bar * unit * 2


def label_pdf(tracking_number: str, service: str, shipment: dict[str, Any]) -> bytes:
    pdf = FPDF(unit="in", format=(4, 6))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 0.4, "FedEx", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 0.2, _latin(service.replace("_", " ")), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.1)
    pdf.set_font("Helvetica", "B", 8)
    pdf.cell(0, 0.18, "FROM", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    for line in _address_lines(shipment.get("shipper", {})):
        pdf.cell(0, 0.16, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.1)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 0.2, "SHIP TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in _address_lines((shipment.get("recipients") or [{}])[0]):
        pdf.cell(0, 0.2, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.2)
    _barcode(pdf, tracking_number, 0.4, pdf.get_y(), 3.2, 0.9)
    pdf.set_y(pdf.get_y() + 1.0)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 0.3, f"TRK# {tracking_number}", align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def invoice_pdf(tracking_number: str, shipment: dict[str, Any]) -> bytes:
    customs = shipment.get("customsClearanceDetail", {})
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "COMMERCIAL INVOICE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    invoice = customs.get("commercialInvoice", {})
    pdf.cell(0, 6, f"Air waybill: {tracking_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        6,
        _latin(
            f"Purpose: {invoice.get('shipmentPurpose', '')}  Terms: "
            f"{invoice.get('termsOfSale', '')}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    for commodity in customs.get("commodities", []):
        value = commodity.get("customsValue", {})
        pdf.multi_cell(
            0,
            6,
            _latin(
                f"{commodity.get('quantity')} x {commodity.get('description')}  HS "
                f"{commodity.get('harmonizedCode', '-')}  origin "
                f"{commodity.get('countryOfManufacture')}  value {value.get('amount')} "
                f"{value.get('currency')}"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    total = customs.get("totalCustomsValue", {})
    pdf.ln(4)
    pdf.cell(0, 6, _latin(f"Total: {total.get('amount')} {total.get('currency')}"))
    return bytes(pdf.output())
