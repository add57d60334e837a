from .export import export_csv, export_excel

__all__ = ["export_csv", "export_excel"]
